import type { Pool } from 'pg';
import { SCHEMA } from '../schema.ts';

/** The database's own HMAC key for account numbers (made by migration 004), used when NOTIFY_PII_HASH_KEY is unset. */
export async function storedPiiHashKey(pool: Pool): Promise<string> {
  const { rows } = await pool.query<{ value: string }>(`SELECT value FROM ${SCHEMA}.settings WHERE name = 'pii_hash_key'`);
  const key = rows[0]?.value;
  if (!key) throw new Error(`${SCHEMA}.settings has no pii_hash_key: migration 004 did not run?`);
  return key;
}
