import { randomBytes } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import { generateSampleCounty } from '@griddispatch/grid';
import { DurationError, parseDuration } from '@griddispatch/sla';
import { districtsOfFeeder, feederTripEvents, inBatches, METER_BATCH } from './simulate-feeder-trip.ts';
import { intOption, loadCliConfig, runCommand, UsageError, type CliConfig, type CliIo } from './io.ts';
import { createRequestGenerator, dueCount, formatProgress, formatSummary, plannedCount, SimStats, type SendResult, type SimSource } from './simulate-plan.ts';

export const SIMULATE_USAGE = `usage: griddispatch simulate --rate N --duration D [--storm] [--source 95598|12345] [--seed S]
       griddispatch simulate --feeder-trip <feederCode> [--restore]

Posts realistic service requests to POST /v1/requests (GD_URL, key GD_API_KEY) at a fixed rate,
on the sample county's real 台区 and customer accounts (the data the embedded start loads).
Open loop: request i leaves at i/N seconds whatever the server answered, so a slow server shows
up as latency and errors, not as a lower rate. Progress on stderr; a summary at the end.

  --rate N           requests per second (e.g. 50, or 0.5)
  --duration D       how long: 30s, 5m, 1h
  --storm            a typhoon surge: fault calls clustered on the 台区 of 2–3 feeders, many
                     repeated calls from the same 台区 within minutes
  --source S         95598 (default: account and 台区) or 12345 (position and community)
  --seed S           the same seed gives the same stream of requests (default: random)
  --timeout D        per request (default 30s)

  --feeder-trip F    instead: feeder F of the sample county trips — every meter behind it (each
                     台区's transformer meter and every customer meter, ids as in packages/grid
                     meters.ts) sends power_off to POST /v1/meter-events in batches of 1,000;
                     grid-routing opens the incidents (主动抢修) before anyone calls
  --restore          with --feeder-trip: the feeder comes back — power_on from the same meters

Exit code 0 when every request was accepted (202), 1 otherwise. For load tests start the server
with GD_RATE_LIMIT_MAX=0, or the per-key rate limit answers 429.
`;

const PROGRESS_TTY_MS = 200;
const PROGRESS_LOG_MS = 5000;
/** After the schedule ends (or Ctrl-C), how long to wait for answers still in flight. */
const DRAIN_MS = 10_000;

function parsePositive(name: string, text: string | undefined): number {
  if (text === undefined) throw new UsageError(`--${name} is required`);
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got "${text}"`);
  return n;
}

function parseDurationOption(name: string, text: string | undefined, fallback?: number): number {
  if (text === undefined) {
    if (fallback !== undefined) return fallback;
    throw new UsageError(`--${name} is required (e.g. 30s, 5m)`);
  }
  try {
    const ms = parseDuration(text);
    if (ms <= 0) throw new UsageError(`--${name} must be longer than 0`);
    return ms;
  } catch (err) {
    if (err instanceof DurationError) throw new UsageError(`--${name}: ${err.message}`);
    throw err;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts; leaves no listener behind. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

interface Poster {
  post(body: unknown, scheduledAt: number): Promise<SendResult>;
  close(): void;
}

/** POSTs over keep-alive connections (256 at most; more requests queue in the agent, and that shows as latency). */
function createPoster(config: CliConfig, timeoutMs: number): Poster {
  const url = new URL('/v1/requests', `${config.url}/`);
  const https = url.protocol === 'https:';
  const agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: 256 }) : new HttpAgent({ keepAlive: true, maxSockets: 256 });
  const send = https ? httpsRequest : httpRequest;
  return {
    post(body, scheduledAt) {
      const payload = Buffer.from(JSON.stringify(body));
      return new Promise<SendResult>((resolve) => {
        const done = (status: number | string, duplicate?: boolean) =>
          resolve({ status, ...(duplicate !== undefined ? { duplicate } : {}), latencyMs: performance.now() - scheduledAt });
        const req = send(
          url,
          {
            method: 'POST',
            agent,
            timeout: timeoutMs,
            headers: { 'content-type': 'application/json', 'content-length': payload.length, authorization: `Bearer ${config.apiKey}` },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? 'response_error'));
            res.on('end', () => {
              const status = res.statusCode ?? 0;
              let duplicate: boolean | undefined;
              if (status === 202) {
                try {
                  duplicate = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { duplicate?: unknown }).duplicate === true;
                } catch {
                  // A 202 without the documented body is still an acceptance; count it as new.
                  duplicate = false;
                }
              }
              done(status, duplicate);
            });
          },
        );
        req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
        req.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
        req.end(payload);
      });
    },
    close() {
      agent.destroy();
    },
  };
}

/** `--feeder-trip`: every meter behind the feeder gasps; progress per batch on stderr, a summary on stdout. */
async function feederTrip(feederCode: string, restore: boolean, io: CliIo): Promise<number> {
  const config = loadCliConfig(io.env);
  const county = generateSampleCounty({ seed: 1 });
  const districts = districtsOfFeeder(county, feederCode);
  if (districts.length === 0) {
    const known = [...new Set(county.districts.map((d) => d.feederCode))].sort().join(', ');
    throw new UsageError(`--feeder-trip: the sample county has no feeder ${feederCode} (its feeders: ${known})`);
  }
  const events = feederTripEvents(county, feederCode, io.now(), `sim-${randomBytes(4).toString('hex')}`, restore ? 'power_on' : 'power_off');
  const batches = inBatches(events);
  io.stderr.write(
    `simulate: feeder ${feederCode} ${restore ? 'restored' : 'trips'}: ${events.length} meters on ${districts.length} 台区, ${batches.length} POSTs to ${config.url}/v1/meter-events\n`,
  );
  const url = new URL('/v1/meter-events', `${config.url}/`);
  let accepted = 0;
  let duplicates = 0;
  let failed = 0;
  const start = performance.now();
  for (const [i, batch] of batches.entries()) {
    if (io.signal.aborted) break;
    let status: number | string;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${config.apiKey}` },
        body: JSON.stringify({ source: 'simulate', events: batch }),
        signal: io.signal,
      });
      status = res.status;
      const text = await res.text();
      if (res.status === 202) {
        const body = JSON.parse(text) as { accepted?: number; duplicates?: number };
        accepted += body.accepted ?? 0;
        duplicates += body.duplicates ?? 0;
      } else {
        failed += batch.length;
        io.stderr.write(`simulate: batch ${i + 1} answered ${res.status}: ${text.slice(0, 300)}\n`);
      }
    } catch (err) {
      status = (err as Error).message;
      failed += batch.length;
      io.stderr.write(`simulate: batch ${i + 1} failed: ${status} (is grid-dispatch running at ${config.url}?)\n`);
    }
    io.stderr.write(
      `simulate: ${Math.min((i + 1) * METER_BATCH, events.length)}/${events.length} meter events sent (${accepted} accepted, ${duplicates} duplicates, ${failed} failed)\n`,
    );
  }
  const seconds = (performance.now() - start) / 1000;
  io.stdout.write(
    `feeder ${feederCode}: ${events.length} ${restore ? 'power_on' : 'power_off'} events on ${districts.length} 台区 in ${seconds.toFixed(1)}s — ${accepted} accepted, ${duplicates} duplicates, ${failed} failed\n`,
  );
  if (!restore) io.stdout.write(`watch the incidents open: griddispatch incidents --feeder ${feederCode}\n`);
  return failed === 0 && accepted + duplicates === events.length ? 0 : 1;
}

const SIMULATE_OPTIONS = {
  rate: { type: 'string' },
  duration: { type: 'string' },
  storm: { type: 'boolean' },
  source: { type: 'string' },
  seed: { type: 'string' },
  timeout: { type: 'string' },
  'feeder-trip': { type: 'string' },
  restore: { type: 'boolean' },
} as const;

/** `griddispatch simulate`. */
export async function simulate(args: string[], io: CliIo): Promise<number> {
  return runCommand(io, SIMULATE_USAGE, args, SIMULATE_OPTIONS, async (parsed) => {
    if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
    const v = parsed.values;
    if (v['feeder-trip'] !== undefined) return feederTrip(v['feeder-trip'], v.restore ?? false, io);
    if (v.restore) throw new UsageError('--restore goes with --feeder-trip');
    const rate = parsePositive('rate', v.rate);
    const durationMs = parseDurationOption('duration', v.duration);
    const timeoutMs = parseDurationOption('timeout', v.timeout, 30_000);
    const source = (v.source ?? '95598') as SimSource;
    if (source !== '95598' && source !== '12345') throw new UsageError(`--source must be 95598 or 12345, got "${v.source}"`);
    const seed = intOption('seed', v.seed, randomBytes(4).readUInt32BE(0), { max: 2 ** 32 - 1 });
    const planned = plannedCount(rate, durationMs);
    if (planned === 0) throw new UsageError(`--rate ${rate} for ${durationMs / 1000}s sends no request; raise one of them`);
    const config = loadCliConfig(io.env);

    // The county the embedded start loads (seed 1, scale 1): its 台区 codes and accounts exist on the server.
    const generator = createRequestGenerator({
      county: generateSampleCounty({ seed: 1 }),
      seed,
      storm: v.storm ?? false,
      source,
      runId: randomBytes(3).toString('hex'),
    });
    const poster = createPoster(config, timeoutMs);
    const stats = new SimStats(planned);
    const bar = io.stderr.isTTY === true;
    io.stderr.write(
      `simulate: ${planned} requests to ${config.url} at ${rate}/s for ${durationMs / 1000}s (seed ${seed}${v.storm ? ', storm' : ''}, source ${source})\n`,
    );
    if (generator.stormFeeders.length > 0) io.stderr.write(`simulate: typhoon on ${generator.stormFeeders.join(', ')}\n`);

    const pending = new Set<Promise<void>>();
    const start = performance.now();
    let lastProgress = start;
    const progress = (final = false) => {
      const now = performance.now();
      if (!final && now - lastProgress < (bar ? PROGRESS_TTY_MS : PROGRESS_LOG_MS)) return;
      lastProgress = now;
      const snapshot = { planned, sent: stats.sent, completed: stats.completed, accepted: stats.accepted, errors: stats.errors, inFlight: stats.inFlight };
      const line = formatProgress(snapshot, now - start, durationMs, bar);
      io.stderr.write(bar ? `\r\u001b[2K${line}${final ? '\n' : ''}` : `${line}\n`);
    };

    // The schedule: wake up, send everything due by now (catching up after a stall), sleep until the next is due.
    while (stats.sent < planned && !io.signal.aborted) {
      const elapsed = performance.now() - start;
      const due = dueCount(elapsed, rate, planned);
      while (stats.sent < due) {
        const i = stats.sent;
        stats.sent += 1;
        const request = generator.next(io.now());
        const sending = poster
          .post(request.body, start + (i * 1000) / rate)
          .then((result) => stats.record(result))
          .finally(() => pending.delete(sending));
        pending.add(sending);
      }
      progress();
      if (stats.sent >= planned) break;
      const nextAt = (stats.sent * 1000) / rate;
      const wait = Math.max(0, Math.min(nextAt - (performance.now() - start), PROGRESS_TTY_MS));
      await sleep(wait, io.signal);
    }

    // Offered load ends when the schedule does: the last request left one interval before it.
    const sendWindowMs = Math.max(1, performance.now() - start, (stats.sent * 1000) / rate);
    // The run lasts its duration; then the answers still in flight come back (bounded). Progress goes on.
    const scheduleEnd = start + durationMs;
    const drainUntil = Math.max(performance.now(), scheduleEnd) + DRAIN_MS;
    for (;;) {
      const now = performance.now();
      const waitForSchedule = !io.signal.aborted && now < scheduleEnd;
      if ((pending.size === 0 && !waitForSchedule) || now >= drainUntil) break;
      const tick = new Promise((r) => setTimeout(r, waitForSchedule ? Math.min(PROGRESS_TTY_MS, scheduleEnd - now) : PROGRESS_TTY_MS));
      await (pending.size > 0 ? Promise.race([Promise.all(pending), tick]) : tick);
      progress();
    }
    const elapsedMs = performance.now() - start;
    progress(true);
    poster.close();
    if (io.signal.aborted) io.stderr.write('simulate: interrupted\n');
    const summary = stats.summary(elapsedMs, sendWindowMs);
    io.stdout.write(formatSummary(summary, { ratePerSecond: rate, stormFeeders: generator.stormFeeders, url: config.url }));
    return summary.errors === 0 && summary.completed === planned ? 0 : 1;
  });
}
