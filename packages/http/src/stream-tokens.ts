import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Short-lived read-only tokens for URLs (an EventSource cannot send headers): `gdst_` +
 * base64url(`keyName.expiresAtSeconds`) + `.` + HMAC. Signed with a key derived from the key
 * pepper, so every replica verifies what any replica issued, and nothing is stored. A token
 * grants `requests:read` only, for `STREAM_TOKEN_TTL_S`, and only while its key is active.
 */
export const STREAM_TOKEN_TTL_S = 600;
const PREFIX = 'gdst_';

export class StreamTokens {
  private readonly signingKey: Buffer;

  constructor(pepper: string) {
    this.signingKey = createHmac('sha256', pepper).update('griddispatch stream tokens', 'utf8').digest();
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.signingKey).update(payload, 'utf8').digest('base64url');
  }

  issue(keyName: string, now = Date.now()): { token: string; expiresAt: Date } {
    const expires = Math.floor(now / 1000) + STREAM_TOKEN_TTL_S;
    const payload = Buffer.from(`${keyName}.${expires}`, 'utf8').toString('base64url');
    return { token: `${PREFIX}${payload}.${this.mac(payload)}`, expiresAt: new Date(expires * 1000) };
  }

  /** The key's name when the token is genuine and unexpired; null otherwise. */
  verify(token: string, now = Date.now()): string | null {
    if (!token.startsWith(PREFIX) || token.length > 300) return null;
    const [payload, mac] = token.slice(PREFIX.length).split('.');
    if (!payload || !mac) return null;
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    const text = Buffer.from(payload, 'base64url').toString('utf8');
    const dot = text.lastIndexOf('.');
    const expires = Number(text.slice(dot + 1));
    if (dot <= 0 || !Number.isInteger(expires) || expires * 1000 <= now) return null;
    return text.slice(0, dot);
  }
}
