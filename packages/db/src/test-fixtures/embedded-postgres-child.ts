// Child process for embedded-postgres.int.test.ts: starts the embedded server, reports its
// postmaster pid on stdout, then waits to be SIGKILLed ("hang") or exits without stop() ("exit").
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@griddispatch/observability';
import { startEmbeddedPostgres } from '../embedded-postgres.ts';

const [dataDir, port, mode] = process.argv.slice(2);
if (!dataDir || !port || (mode !== 'hang' && mode !== 'exit')) throw new Error('usage: <dataDir> <port> hang|exit');

const pg = await startEmbeddedPostgres({ dataDir, port: Number(port), logger: createLogger({ service: 'pg-child', level: 'warn' }) });
const pid = Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
process.stdout.write(`${JSON.stringify({ pid, url: pg.url })}\n`);
if (mode === 'exit') process.exit(0);
setInterval(() => undefined, 60_000);
