import { dlq } from './commands/dlq.ts';
import { cli } from './commands/io.ts';
import { requests } from './commands/requests.ts';
import { simulate } from './commands/simulate.ts';
import { start } from './commands/start.ts';
import { tail } from './commands/tail.ts';

const USAGE = `usage: griddispatch <command>

commands:
  start            the whole stack in one process (embedded PostgreSQL and bus unless
                   DATABASE_URL / KAFKA_BROKERS are set)
  tail <topic>     one readable line per event on a Kafka topic (needs KAFKA_BROKERS)
  requests         list | show <id>: requests, their grid, deadlines and timeline (HTTP API)
  dlq              list | replay <topic>: dead letters, and publishing them again
  simulate         realistic requests at a fixed rate (--storm: a typhoon surge)

griddispatch <command> --help for a command's options. Environment: GD_URL, GD_API_KEY,
KAFKA_BROKERS, GD_TOPIC_PREFIX, GD_TIME_ZONE.
`;

const commands: Record<string, (args: string[]) => Promise<void>> = {
  start: () => start(),
  tail: cli(tail),
  requests: cli(requests),
  dlq: cli(dlq),
  simulate: cli(simulate),
};

const [name, ...args] = process.argv.slice(2);
const command = name ? commands[name] : undefined;
if (!command) {
  process.stderr.write(name && name !== '--help' ? `unknown command: ${name}\n\n${USAGE}` : USAGE);
  process.exit(name && name !== '--help' ? 2 : 0);
}
await command(args).catch((err: unknown) => {
  process.stderr.write(`griddispatch ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
