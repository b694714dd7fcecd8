// A minimal Server-Sent Events reader for tests: what a browser's EventSource would see.

export interface SseMessage {
  id?: string;
  event: string;
  data: string;
  /** ms since the stream opened. */
  at: number;
}

export interface SseStream {
  status: number;
  headers: Headers;
  /** Every `: comment` line seen so far. */
  comments: string[];
  /** The next message (optionally: the next one `match` accepts); throws after `timeoutMs`. */
  next(match?: (m: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage>;
  /** Messages received and not yet taken by next(). */
  pending(): SseMessage[];
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController();
  const started = Date.now();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const queue: SseMessage[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  let ended = false;

  const parse = (block: string) => {
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comments.push(line.slice(1).trim());
      else if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length > 0) queue.push({ ...(id !== undefined ? { id } : {}), event, data: data.join('\n'), at: Date.now() - started });
    for (const wake of [...waiters]) wake();
  };

  if (res.body) {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    void (async () => {
      let buffer = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut: number;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            parse(buffer.slice(0, cut));
            buffer = buffer.slice(cut + 2);
          }
        }
      } catch (err) {
        if ((err as Error).name !== 'AbortError') throw err;
      } finally {
        ended = true;
        for (const wake of [...waiters]) wake();
      }
    })();
  } else {
    ended = true;
  }

  return {
    status: res.status,
    headers: res.headers,
    comments,
    pending: () => [...queue],
    async next(match = () => true, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = queue.findIndex(match);
        if (i >= 0) return queue.splice(i, 1)[0]!;
        if (ended) throw new Error('stream ended before the expected message');
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms; pending: ${queue.map((m) => m.event).join(', ') || 'none'}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, left);
          function done() {
            clearTimeout(timer);
            waiters.delete(done);
            resolve();
          }
          waiters.add(done);
        });
      }
    },
    close: () => abort.abort(),
  };
}
