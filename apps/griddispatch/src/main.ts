import { cli } from './commands/io.ts';

const USAGE = `usage: griddispatch <command>

commands:
  start            the whole stack in one process (embedded PostgreSQL and bus unless
                   DATABASE_URL / KAFKA_BROKERS are set)
  tail <topic>     one readable line per event on a Kafka topic (needs KAFKA_BROKERS)
  requests         list | show <id>: requests, their grid, deadlines and timeline (HTTP API)
  incidents        list | show <id>: supply faults, their size, status and ETR (HTTP API)
  report           reliability | response: SAIDI/SAIFI/CAIDI per grid or feeder, response times (CSV)
  dlq              list | replay <topic>: dead letters, and publishing them again
  simulate         realistic requests at a fixed rate (--storm: a typhoon surge; --feeder-trip: meter power-offs)
  import <dir>     load grids, 台区, customers, staff and rosters (checked first, all or nothing)
  keys             create | revoke | list: API keys kept in the database

griddispatch <command> --help for a command's options. Environment: GD_URL, GD_API_KEY,
KAFKA_BROKERS, GD_TOPIC_PREFIX, GD_TIME_ZONE, DATABASE_URL, GD_DATA_DIR, GD_KEY_PEPPER.
`;

const START_USAGE = `usage: griddispatch start

Runs intake, grid-routing, sla-timer and notification in one process, with the dispatch board
at /board and the API docs at /docs. Without DATABASE_URL it starts an embedded PostgreSQL with
its data in GD_DATA_DIR (default ./.data); without KAFKA_BROKERS the services talk over an
in-process bus. Without GD_API_KEYS it creates the development key dev:dev-secret:admin and
listens on 127.0.0.1 only. PORT (default 8080), HOST, GD_SAMPLE_DATA=0 to start without the
sample county, LOG_LEVEL. Ctrl-C stops it gracefully.
`;

const wantsHelp = (args: string[]) => args.some((a) => a === '--help' || a === '-h');

/** `start` takes no arguments; its help must not pull in (or start) the whole stack. */
async function start(args: string[]): Promise<void> {
  if (wantsHelp(args)) {
    process.stdout.write(START_USAGE);
    return;
  }
  if (args.length > 0) {
    process.stderr.write(`error: start takes no arguments, got ${args.join(' ')}\n\n${START_USAGE}`);
    process.exitCode = 2;
    return;
  }
  await (await import('./commands/start.ts')).start();
}

// Loaded on demand: `start` and `import` pull in every service, which operators' quick
// commands (tail, requests) should not wait for.
const commands: Record<string, () => Promise<(args: string[]) => Promise<void>>> = {
  start: async () => start,
  tail: async () => cli((await import('./commands/tail.ts')).tail),
  requests: async () => cli((await import('./commands/requests.ts')).requests),
  incidents: async () => cli((await import('./commands/incidents.ts')).incidents),
  report: async () => cli((await import('./commands/report.ts')).report),
  dlq: async () => cli((await import('./commands/dlq.ts')).dlq),
  simulate: async () => cli((await import('./commands/simulate.ts')).simulate),
  import: async () => cli((await import('./commands/import.ts')).importCommand),
  keys: async () => cli((await import('./commands/keys.ts')).keys),
};

// Help goes to stdout with exit 0 (so `griddispatch --help | less` works); a missing or unknown
// command is a usage error: stderr, exit 2.
let [name, ...args] = process.argv.slice(2);
if (name === 'help') [name, ...args] = args.length > 0 ? [args[0]!, '--help'] : ['--help'];
if (name === '--help' || name === '-h') {
  process.stdout.write(USAGE);
  process.exit(0);
}
const load = name ? commands[name] : undefined;
if (!load) {
  process.stderr.write(name ? `error: unknown command: ${name}\n\n${USAGE}` : USAGE);
  process.exit(2);
}
await load()
  .then((command) => command(args))
  .catch((err: unknown) => {
    process.stderr.write(`griddispatch ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
