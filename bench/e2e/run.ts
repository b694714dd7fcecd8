import { runLadder } from './ladder.ts';
import { parseOptions, USAGE, UsageError } from './options.ts';
import { writeResults, writeText } from './results.ts';
import { runStorm } from './storm.ts';
import { latencyChart, ladderSummary } from './summary.ts';

// `pnpm bench:e2e [--rates …] [--duration 20s] [--quick]` — the rate ladder (ladder.ts);
// `pnpm bench:e2e -- --storm [--calls N --minutes M]` — the typhoon storm (storm.ts).
// Progress goes to stdout as it runs; results to bench/results/.

const say = (line: string) => process.stdout.write(`${line}\n`);
const command = `pnpm bench:e2e${
  process.argv.length > 2
    ? ` ${process.argv
        .slice(2)
        .filter((a) => a !== '--')
        .join(' ')}`
    : ''
}`;

try {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed.mode === 'help') {
    process.stdout.write(USAGE);
  } else if (parsed.mode === 'storm') {
    await runStorm(parsed.options, say, command);
  } else {
    const result = await runLadder(parsed.options, say, command);
    const { file, latest } = writeResults('e2e', result);
    const svg = writeText('e2e-latency.svg', latencyChart(result));
    const md = writeText('e2e-summary.md', ladderSummary(result));
    say('');
    say(ladderSummary(result));
    say(`results: ${file}\n         ${latest}\n         ${md}\n         ${svg}`);
  }
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`bench:e2e: ${err.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`bench:e2e failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}
