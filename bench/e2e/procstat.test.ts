import { describe, expect, it } from 'vitest';
import { findPids, parseMachineTicks, parseRssBytes, parseStatTicks, ProcSampler } from './procstat.ts';

describe('/proc parsing', () => {
  it('reads utime + stime even when the process name holds spaces and parens', () => {
    const stat = '4431 (node (tsx) x) S 4415 4402 4402 0 -1 4194304 100 0 0 0 250 75 0 0 20 0 11 0 1000 1 1';
    expect(parseStatTicks(stat)).toBe(325);
  });

  it('reads VmRSS', () => {
    expect(parseRssBytes('Name:\tnode\nVmRSS:\t   99584 kB\nThreads: 11\n')).toBe(99584 * 1024);
    expect(parseRssBytes('Name:\tzombie\n')).toBe(0);
  });

  it('reads the machine counters', () => {
    expect(parseMachineTicks('cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3\n')).toEqual({ busy: 150, total: 1000 });
  });
});

describe('ProcSampler', () => {
  it('measures this process: the CPU time it spent spinning, and its RSS', () => {
    const sampler = new ProcSampler([{ name: 'self', pids: () => [process.pid] }], 50);
    const t0 = Date.now();
    const cpu0 = process.cpuUsage();
    sampler.sample(t0);
    // Spin until 300 ms of CPU were used, however busy the machine is (bounded by 20 s).
    const cpuMs = () => {
      const d = process.cpuUsage(cpu0);
      return (d.user + d.system) / 1000;
    };
    while (cpuMs() < 300 && Date.now() - t0 < 20_000) Math.sqrt(Math.random());
    const t1 = Date.now();
    sampler.sample(t1);
    const used = cpuMs();
    const usage = sampler.window(t0, t1);
    // /proc counts in 10 ms ticks: agree with the process's own accounting within a few ticks.
    const expected = (used / (t1 - t0)) * 100;
    expect(Math.abs(usage.processes.self!.cpuPercent - expected)).toBeLessThan((40 / (t1 - t0)) * 100 + 1);
    expect(usage.processes.self!.rssMaxMb).toBeGreaterThan(10);
  });

  it('finds processes by name', () => {
    expect(findPids({ cmdline: process.argv[1]! })).toContain(process.pid);
  });
});
