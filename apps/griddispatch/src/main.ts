import { cli } from './commands/io.ts';

const USAGE = `usage: griddispatch <command>

commands:
  start            the whole stack in one process (embedded PostgreSQL and bus unless
                   DATABASE_URL / KAFKA_BROKERS are set)
  tail <topic>     one readable line per event on a Kafka topic (needs KAFKA_BROKERS)
  requests         list | show <id>: requests, their grid, deadlines and timeline (HTTP API)
  dlq              list | replay <topic>: dead letters, and publishing them again
  simulate         realistic requests at a fixed rate (--storm: a typhoon surge)
  import <dir>     load grids, 台区, customers, staff and rosters (checked first, all or nothing)
  keys             create | revoke | list: API keys kept in the database

griddispatch <command> --help for a command's options. Environment: GD_URL, GD_API_KEY,
KAFKA_BROKERS, GD_TOPIC_PREFIX, GD_TIME_ZONE, DATABASE_URL, GD_DATA_DIR, GD_KEY_PEPPER.
`;

// Loaded on demand: `start` and `import` pull in every service, which operators' quick
// commands (tail, requests) should not wait for.
const commands: Record<string, () => Promise<(args: string[]) => Promise<void>>> = {
  start: async () => (await import('./commands/start.ts')).start,
  tail: async () => cli((await import('./commands/tail.ts')).tail),
  requests: async () => cli((await import('./commands/requests.ts')).requests),
  dlq: async () => cli((await import('./commands/dlq.ts')).dlq),
  simulate: async () => cli((await import('./commands/simulate.ts')).simulate),
  import: async () => cli((await import('./commands/import.ts')).importCommand),
  keys: async () => cli((await import('./commands/keys.ts')).keys),
};

const [name, ...args] = process.argv.slice(2);
const load = name ? commands[name] : undefined;
if (!load) {
  process.stderr.write(name && name !== '--help' ? `unknown command: ${name}\n\n${USAGE}` : USAGE);
  process.exit(name && name !== '--help' ? 2 : 0);
}
await load()
  .then((command) => command(args))
  .catch((err: unknown) => {
    process.stderr.write(`griddispatch ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
