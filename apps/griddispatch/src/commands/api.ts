import type { z } from 'zod';
import { ErrorBody } from '@griddispatch/contracts';
import { CliError, type CliConfig } from './io.ts';

// GET against the grid-dispatch HTTP API (GD_URL, Bearer GD_API_KEY), with errors an operator
// can act on.

function networkCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

export async function apiGet<S extends z.ZodType>(config: CliConfig, path: string, schema: S, signal?: AbortSignal): Promise<z.output<S>> {
  const url = `${config.url}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${config.apiKey}`, accept: 'application/json' }, signal: signal ?? null });
  } catch (err) {
    if (signal?.aborted) throw new CliError('interrupted');
    throw new CliError(`cannot reach grid-dispatch at ${config.url} (${networkCause(err)}); is it running (\`pnpm start\`)? Set GD_URL to point elsewhere.`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new CliError(`GET ${path}: HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    const error = ErrorBody.safeParse(body);
    const detail = error.success ? `${error.data.error.code}: ${error.data.error.message}` : text.slice(0, 200);
    if (res.status === 401) throw new CliError(`the API rejected the key (401 ${detail}); set GD_API_KEY`);
    if (res.status === 403) throw new CliError(`the API key may not do this (403 ${detail}); it needs the requests:read scope`);
    throw new CliError(`GET ${path}: HTTP ${res.status} ${detail}`);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new CliError(`GET ${path}: unexpected response shape (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`);
  return parsed.data;
}
