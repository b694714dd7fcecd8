import { start } from './commands/start.ts';

const USAGE = `usage: griddispatch <command>

commands:
  start            the whole stack in one process (embedded PostgreSQL and bus unless
                   DATABASE_URL / KAFKA_BROKERS are set)
`;

const commands: Record<string, (args: string[]) => Promise<void>> = {
  start: () => start(),
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
