import { readdirSync, readFileSync } from 'node:fs';

// CPU and RSS per process, sampled from /proc every second (Linux). A target is a set of pids
// found anew at each sample, so "all postgres processes" works while backends come and go: CPU is
// the sum of tick deltas of the pids present in two consecutive samples.

/** Clock ticks per second (`getconf CLK_TCK`; 100 on every Linux we run on). */
const TICKS_PER_SECOND = 100;

/** utime + stime in ticks from the text of /proc/<pid>/stat (the name may hold spaces or parens). */
export function parseStatTicks(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  return Number(rest[11]) + Number(rest[12]);
}

/** VmRSS in bytes from the text of /proc/<pid>/status (0 for a zombie). */
export function parseRssBytes(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** busy and total jiffies of the whole machine from the first line of /proc/stat. */
export function parseMachineTicks(procStat: string): { busy: number; total: number } {
  const fields = procStat.slice(0, procStat.indexOf('\n')).trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Pids whose command line contains `needle` (e.g. `kafka.Kafka`), or whose name is `comm`. */
export function findPids(match: { cmdline?: string; comm?: string }): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (match.comm !== undefined && read(`/proc/${entry}/comm`)?.trim() === match.comm) pids.push(Number(entry));
    else if (match.cmdline !== undefined && read(`/proc/${entry}/cmdline`)?.replace(/\0/g, ' ').includes(match.cmdline)) pids.push(Number(entry));
  }
  return pids;
}

export interface Target {
  name: string;
  pids: () => number[];
}

interface Sample {
  at: number;
  /** Since the previous sample: what cpuSeconds and the machine ticks cover. */
  spanMs: number;
  /** Per target: CPU seconds used since the previous sample, and RSS now (bytes). */
  cpuSeconds: Map<string, number>;
  rss: Map<string, number>;
  machineBusy: number;
  machineTotal: number;
}

export interface ProcessUsage {
  /** Average CPU over the window, 100 = one core busy. */
  cpuPercent: number;
  rssMaxMb: number;
  rssEndMb: number;
}

export interface WindowUsage {
  processes: Record<string, ProcessUsage>;
  /** Whole machine, 100 = every core busy. */
  machineBusyPercent: number;
}

export class ProcSampler {
  private readonly samples: Sample[] = [];
  private readonly last = new Map<number, number>();
  private lastMachine: { busy: number; total: number } | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly targets: Target[],
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Takes one sample now (also called by the timer). */
  sample(now = Date.now()): void {
    const cpuSeconds = new Map<string, number>();
    const rss = new Map<string, number>();
    const seen = new Set<number>();
    for (const target of this.targets) {
      let ticks = 0;
      let bytes = 0;
      for (const pid of target.pids()) {
        const stat = read(`/proc/${pid}/stat`);
        if (stat === null) continue;
        const t = parseStatTicks(stat);
        const before = this.last.get(pid);
        if (before !== undefined) ticks += Math.max(0, t - before);
        this.last.set(pid, t);
        seen.add(pid);
        bytes += parseRssBytes(read(`/proc/${pid}/status`) ?? '');
      }
      cpuSeconds.set(target.name, ticks / TICKS_PER_SECOND);
      rss.set(target.name, bytes);
    }
    for (const pid of [...this.last.keys()]) if (!seen.has(pid)) this.last.delete(pid);
    const machine = parseMachineTicks(read('/proc/stat') ?? 'cpu 0 0 0 0\n');
    const prev = this.lastMachine;
    this.lastMachine = machine;
    const prevAt = this.samples[this.samples.length - 1]?.at;
    this.samples.push({
      at: now,
      spanMs: prevAt === undefined ? 0 : now - prevAt,
      cpuSeconds,
      rss,
      machineBusy: prev ? machine.busy - prev.busy : 0,
      machineTotal: prev ? machine.total - prev.total : 0,
    });
  }

  /** Usage between two wall-clock times (ms), from the samples taken in between. */
  window(from: number, to: number): WindowUsage {
    const inside = this.samples.filter((s) => s.spanMs > 0 && s.at > from && s.at <= to + this.intervalMs / 2);
    const seconds = Math.max(0.001, inside.reduce((sum, s) => sum + s.spanMs, 0) / 1000);
    const processes: Record<string, ProcessUsage> = {};
    for (const target of this.targets) {
      const cpu = inside.reduce((sum, s) => sum + (s.cpuSeconds.get(target.name) ?? 0), 0);
      const rss = inside.map((s) => s.rss.get(target.name) ?? 0);
      processes[target.name] = {
        cpuPercent: Math.round((cpu / seconds) * 1000) / 10,
        rssMaxMb: Math.round(Math.max(0, ...rss) / 1024 / 102.4) / 10,
        rssEndMb: Math.round((rss[rss.length - 1] ?? 0) / 1024 / 102.4) / 10,
      };
    }
    const busy = inside.reduce((s, x) => s + x.machineBusy, 0);
    const total = inside.reduce((s, x) => s + x.machineTotal, 0);
    return { processes, machineBusyPercent: total > 0 ? Math.round((busy / total) * 1000) / 10 : 0 };
  }
}
