// The one way channels talk HTTP: fetch with a timeout, no redirects followed (a receiver answers
// at the URL it registered), and a bounded read of the answer (it only matters for error details
// and WeCom's errcode).

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: string;
}

const MAX_BODY_BYTES = 64 * 1024;

async function readBounded(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= MAX_BODY_BYTES) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
}

/** POSTs `body`; resolves with any HTTP answer, rejects only when there was none (timeout, network). */
export async function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<HttpAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    body,
    headers,
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, headers: res.headers, body: await readBounded(res) };
}

/** Short error text from an answer body, for the delivery log (never the whole page). */
export function errorDetail(answer: HttpAnswer): string {
  const text = answer.body.replace(/\s+/g, ' ').trim();
  return text ? `HTTP ${answer.status}: ${text.slice(0, 200)}` : `HTTP ${answer.status}`;
}
