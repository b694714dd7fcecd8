import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '@griddispatch/observability';
import { startPeriodic, type Periodic } from './periodic.ts';

/** A logger that records its lines: level, message and fields. */
function recordingLogger() {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => lines.push({ level, msg, fields });
  const logger = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } as unknown as Logger;
  return { logger, lines };
}

let runners: Periodic<unknown>[] = [];

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(async () => {
  await Promise.all(runners.map((r) => r.stop()));
  runners = [];
  vi.useRealTimers();
});

function start<T>(opts: Parameters<typeof startPeriodic<T>>[0]): Periodic<T> {
  const r = startPeriodic(opts);
  runners.push(r as Periodic<unknown>);
  return r;
}

describe('startPeriodic', () => {
  it('runs a cycle every interval, after the initial delay', async () => {
    let runs = 0;
    start({ label: 'job', intervalMs: 1000, initialDelayMs: 100, run: async () => void (runs += 1) });
    await vi.advanceTimersByTimeAsync(99);
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(3000);
    expect(runs).toBe(4);
  });

  it('starts the next cycle at once while `again` says there is a backlog', async () => {
    const backlog = [500, 500, 120, 0];
    const at: number[] = [];
    const t0 = Date.now();
    start({
      label: 'job',
      intervalMs: 1000,
      run: async () => {
        at.push(Date.now() - t0);
        return backlog.shift() ?? 0;
      },
      again: (n) => n >= 500,
    });
    await vi.advanceTimersByTimeAsync(2100);
    // At once is a zero-delay timer (1 ms under fake timers); after the short one, a whole interval.
    expect(at).toEqual([1000, 1001, 1002, 2002]);
  });

  it('logs a failure, waits longer while it keeps failing (up to the bound), and says once when it works again', async () => {
    const { logger, lines } = recordingLogger();
    let failuresLeft = 4;
    const at: number[] = [];
    start({
      label: 'job',
      intervalMs: 100,
      maxBackoffMs: 500,
      logger,
      run: async () => {
        at.push(Date.now());
        if (failuresLeft-- > 0) throw new Error('database away');
      },
    });
    const t0 = Date.now();
    await vi.advanceTimersByTimeAsync(100 + 100 + 200 + 400 + 500 + 100);
    expect(at.map((t) => t - t0)).toEqual([100, 200, 400, 800, 1300, 1400]);
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.fields.retryInMs)).toEqual([100, 200, 400, 500]);
    expect(lines.filter((l) => l.level === 'info')).toEqual([{ level: 'info', msg: 'job works again', fields: { failures: 4 } }]);
  });

  it('never overlaps cycles: runNow waits for the one in progress', async () => {
    let active = 0;
    let most = 0;
    const r = start({
      label: 'job',
      intervalMs: 0,
      run: async () => {
        active += 1;
        most = Math.max(most, active);
        await new Promise((resolve) => setTimeout(resolve, 50));
        active -= 1;
        return active;
      },
    });
    const both = Promise.all([r.runNow(), r.runNow()]);
    await vi.advanceTimersByTimeAsync(100);
    await both;
    expect(most).toBe(1);
  });

  it('stop() waits for the cycle in flight, and no cycle starts after it', async () => {
    let runs = 0;
    let finished = false;
    const r = start({
      label: 'job',
      intervalMs: 100,
      run: async () => {
        runs += 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
        finished = true;
      },
    });
    await vi.advanceTimersByTimeAsync(120);
    expect(runs).toBe(1);
    const stopped = r.stop();
    await vi.advanceTimersByTimeAsync(50);
    await stopped;
    expect(finished).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(1);
  });

  it('with interval 0 runs only when asked', async () => {
    let runs = 0;
    const r = start({ label: 'job', intervalMs: 0, run: async () => (runs += 1) });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runs).toBe(0);
    expect(await r.runNow()).toBe(1);
  });
});
