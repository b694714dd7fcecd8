import { HttpError } from './errors.ts';

// JSON.parse silently keeps the last of two equal keys, accepts "\ud800" (not valid Unicode, and
// PostgreSQL cannot store it) and "\u0000" (PostgreSQL text rejects it → a 500 later). A caller
// that sends any of these has a bug we want to tell them about, so the host's JSON parser
// refuses them up front with a 400 instead of storing something other than what was meant.

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const MAX_DEPTH = 32;

interface ObjectFrame {
  keys: Set<string>;
  expectKey: boolean;
}

/** First key that occurs twice in one object of an already valid JSON text, or null. */
export function findDuplicateKey(text: string): string | null {
  const stack: (ObjectFrame | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      for (; j < text.length; j++) {
        const c = text.charCodeAt(j);
        if (c === 0x5c /* \ */) {
          escaped = true;
          j++;
        } else if (c === 0x22) break;
      }
      const top = stack[stack.length - 1];
      if (top && top.expectKey) {
        const raw = text.slice(i, j + 1);
        const key = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (top.keys.has(key)) return key;
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j;
    } else if (ch === 0x7b /* { */) {
      stack.push({ keys: new Set(), expectKey: true });
    } else if (ch === 0x5b /* [ */) {
      stack.push(null);
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) {
      stack.pop();
    } else if (ch === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top) top.expectKey = true;
    }
  }
  return null;
}

/** Why a parsed JSON value cannot be accepted as text we store, or null when it is fine. */
export function findUnstorableText(value: unknown): string | null {
  const pending: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
  while (pending.length > 0) {
    const { value: v, path, depth } = pending.pop()!;
    if (depth > MAX_DEPTH) return `${path || 'body'}: nested deeper than ${MAX_DEPTH} levels`;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return `${path || 'body'}: contains a NUL character`;
      if (LONE_SURROGATE.test(v)) return `${path || 'body'}: contains a lone UTF-16 surrogate (not valid Unicode)`;
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => pending.push({ value: item, path: `${path}[${i}]`, depth: depth + 1 }));
    } else if (v !== null && typeof v === 'object') {
      for (const [key, item] of Object.entries(v)) {
        if (key.includes('\u0000') || LONE_SURROGATE.test(key)) return `${path || 'body'}: a key is not valid Unicode`;
        if (key === '__proto__') return `${path || 'body'}: key "__proto__" is not allowed`;
        pending.push({ value: item, path: path ? `${path}.${key}` : key, depth: depth + 1 });
      }
    }
  }
  return null;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The body as text; bytes that are not UTF-8 are a 400, not silently replaced by U+FFFD. */
export function decodeUtf8(body: Buffer): string {
  try {
    return UTF8.decode(body);
  } catch {
    throw new HttpError(400, 'invalid_text', 'body is not valid UTF-8');
  }
}

/** Strict JSON: valid syntax, no duplicate keys, storable Unicode text. Throws HttpError 400. */
export function parseStrictJson(text: string): unknown {
  if (text.trim() === '') throw new HttpError(400, 'invalid_json', 'body is empty but content-type is application/json');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'invalid_json', `body is not valid JSON: ${(err as Error).message}`);
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate !== null) throw new HttpError(400, 'invalid_json', `duplicate key "${duplicate}" in JSON object`);
  const problem = findUnstorableText(value);
  if (problem) throw new HttpError(400, 'invalid_text', problem);
  return value;
}
