import type { z } from 'zod';
import { ErrorBody } from '@griddispatch/contracts';
import { CliError, type CliConfig } from './io.ts';

// GET against the grid-dispatch HTTP API (GD_URL, Bearer GD_API_KEY), with errors an operator
// can act on.

function networkCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

/** One GET with the key and the `accept` asked for; network failures as a CliError an operator can act on. */
async function send(config: CliConfig, path: string, accept: string, signal?: AbortSignal): Promise<{ res: Response; text: string }> {
  const url = `${config.url}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${config.apiKey}`, accept }, signal: signal ?? null });
  } catch (err) {
    if (signal?.aborted) throw new CliError('interrupted');
    throw new CliError(`cannot reach grid-dispatch at ${config.url} (${networkCause(err)}); is it running (\`pnpm start\`)? Set GD_URL to point elsewhere.`);
  }
  return { res, text: await res.text() };
}

/** The answer's body as JSON; one that is not JSON is a CliError naming the request. */
function jsonBody(path: string, res: Response, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`GET ${path}: HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
}

/** The API's error answer (its JSON error body when it has one) as a CliError. */
function failure(path: string, res: Response, text: string): CliError {
  let body: unknown;
  try {
    body = jsonBody(path, res, text);
  } catch (err) {
    return err as CliError;
  }
  const error = ErrorBody.safeParse(body);
  const detail = error.success ? `${error.data.error.code}: ${error.data.error.message}` : text.slice(0, 200);
  if (res.status === 401) return new CliError(`the API rejected the key (401 ${detail}); set GD_API_KEY`);
  if (res.status === 403) return new CliError(`the API key may not do this (403 ${detail}); it needs the requests:read scope`);
  return new CliError(`GET ${path}: HTTP ${res.status} ${detail}`);
}

export async function apiGet<S extends z.ZodType>(config: CliConfig, path: string, schema: S, signal?: AbortSignal): Promise<z.output<S>> {
  const { res, text } = await send(config, path, 'application/json', signal);
  if (!res.ok) throw failure(path, res, text);
  const parsed = schema.safeParse(jsonBody(path, res, text));
  if (!parsed.success)
    throw new CliError(`GET ${path}: unexpected response shape (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`);
  return parsed.data;
}

/** A GET answered as text of the given media type (CSV): the body as it came, and the response headers. */
export async function apiGetText(config: CliConfig, path: string, accept: string, signal?: AbortSignal): Promise<{ text: string; headers: Headers }> {
  const { res, text } = await send(config, path, accept, signal);
  if (!res.ok) throw failure(path, res, text);
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith(accept)) throw new CliError(`GET ${path}: asked for ${accept}, got ${type || 'no content type'}`);
  return { text, headers: res.headers };
}
