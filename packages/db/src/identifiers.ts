// Schema names are interpolated into DDL and LISTEN (neither takes bind parameters), so they are
// restricted to plain lower-case identifiers rather than escaped.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;

export function schemaIdent(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid schema name ${JSON.stringify(schema)}: use lower-case letters, digits and _ (max 48)`);
  }
  return `"${schema}"`;
}

/** LISTEN/NOTIFY channel that wakes the relay of one schema. */
export function outboxChannel(schema: string): string {
  schemaIdent(schema);
  return `gd_outbox_${schema}`;
}

/** Advisory-lock keys (hashed with `hashtextextended` in SQL) — one namespace per purpose. */
export function migrateLockName(schema: string): string {
  return `griddispatch:migrate:${schema}`;
}

export function relayLockName(schema: string): string {
  return `griddispatch:relay:${schema}`;
}

export function retentionLockName(schema: string): string {
  return `griddispatch:retention:${schema}`;
}
