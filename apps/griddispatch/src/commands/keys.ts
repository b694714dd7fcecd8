import { createApiKey, listApiKeys, migrateAuth, parseApiKeys, resolveKeyPepper, revokeApiKey, SCOPES, type ApiKeyRow, type Scope } from '@griddispatch/http';
import { createLogger } from '@griddispatch/observability';
import { openDatabase } from '../database.ts';
import { CliEnv } from '../env.ts';
import { CliError, runCommand, UsageError, type CliIo, type Command } from './io.ts';

export const KEYS_USAGE = `usage: griddispatch keys create <name> --scopes s+s [--sources a+b] [--grids g+g] [--rate N]
       griddispatch keys revoke <name>
       griddispatch keys list

API keys kept in the database, beside the ones listed in GD_API_KEYS (which a start applies as
the whole list of environment keys). \`create\` prints the new secret ONCE: only its HMAC is kept.
A revoked key stays revoked across restarts, even if GD_API_KEYS still lists the same secret.

  --scopes s+s    ${SCOPES.join(', ')}
  --sources a+b   the request \`source\` values the key may post (default: any)
  --grids g+g     the grids the key may see: its reads, streams and webhooks are limited to them
                  and the grids under them (default: every grid)
  --rate N        requests per minute for this key (default: GD_RATE_LIMIT_MAX)

The database: DATABASE_URL, else the embedded one under GD_DATA_DIR. GD_KEY_PEPPER must be the
one the servers use (unset: the pepper kept in the database, as the embedded start does).
`;

/** Reads `--scopes`/`--sources`/`--grids`/`--rate` with the GD_API_KEYS parser, so both say the same things. */
function keyOptions(values: { scopes?: string; sources?: string; grids?: string; rate?: string }): {
  scopes: Scope[];
  sources?: string[];
  grids?: string[];
  ratePerMinute?: number;
} {
  if (!values.scopes) throw new UsageError('--scopes is required');
  const tail = [
    values.scopes,
    values.sources,
    values.grids === undefined ? undefined : `grids=${values.grids}`,
    values.rate === undefined ? undefined : `${values.rate}/min`,
  ]
    .filter((v) => v !== undefined)
    .join(':');
  try {
    // A throwaway strong secret: only the scope/source/rate part is parsed here.
    const [spec] = parseApiKeys(`cli:0123456789abcdefghijklmnopqrstuv:${tail}`);
    return { scopes: spec!.scopes, sources: spec!.sources, grids: spec!.grids, ratePerMinute: spec!.ratePerMinute };
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^GD_API_KEYS entry 1 \(cli\): /, ''));
  }
}

function row(k: ApiKeyRow): string {
  const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()} (${k.revokedBy === 'cli' ? 'keys revoke' : 'left GD_API_KEYS'})` : 'active';
  const origin = k.origin === 'env' ? 'GD_API_KEYS' : 'keys create';
  return [
    k.name,
    k.scopes.join('+'),
    k.sources ? k.sources.join('+') : 'any',
    k.grids ? k.grids.join('+') : 'all',
    k.ratePerMinute ? `${k.ratePerMinute}/min` : 'default',
    origin,
    state,
  ].join('\t');
}

const KEYS_OPTIONS = { scopes: { type: 'string' }, sources: { type: 'string' }, grids: { type: 'string' }, rate: { type: 'string' } } as const;

export const keys: Command = (args, io: CliIo) =>
  runCommand(io, KEYS_USAGE, args, KEYS_OPTIONS, async (parsed) => {
    const [action, name, ...extra] = parsed.positionals;
    if (extra.length > 0) throw new UsageError(`unexpected: ${extra.join(' ')}`);
    if (action !== 'create' && action !== 'revoke' && action !== 'list') throw new UsageError('give create, revoke or list');
    if (action !== 'list' && !name) throw new UsageError(`keys ${action} needs a key name`);
    const options = action === 'create' ? keyOptions(parsed.values) : undefined;

    const env = CliEnv.safeParse(io.env);
    if (!env.success) throw new UsageError(`invalid environment: ${env.error.issues.map((i) => i.message).join('; ')}`);
    const logger = createLogger({ service: 'griddispatch-keys', level: 'warn' });
    const db = await openDatabase(env.data, logger);
    try {
      await migrateAuth(db.pool, logger);
      if (action === 'list') {
        const rows = await listApiKeys(db.pool);
        io.stdout.write(
          `${['name', 'scopes', 'sources', 'grids', 'rate', 'made by', 'state'].join('\t')}\n${rows.map(row).join('\n')}${rows.length ? '\n' : ''}`,
        );
        return 0;
      }
      if (action === 'revoke') {
        if (!(await revokeApiKey(db.pool, name!))) throw new CliError(`no active key named "${name}"`);
        io.stdout.write(`revoked ${name} (servers stop accepting it within 10 s; a restart does not restore it)\n`);
        return 0;
      }
      const pepper = await resolveKeyPepper(db.pool, io.env.GD_KEY_PEPPER || undefined).catch((err: Error) => {
        throw new CliError(err.message);
      });
      const created = await createApiKey(db.pool, pepper, name!, options!).catch((err: Error) => {
        throw new CliError(err.message);
      });
      io.stderr.write(`created ${created.name}; the secret is shown once, keep it now:\n`);
      io.stdout.write(`${created.secret}\n`);
      return 0;
    } finally {
      await db.close();
    }
  });
