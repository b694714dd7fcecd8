import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Summarises V8 CPU profiles (`node --cpu-prof`): per file, the share of samples spent in its
// functions (self) and under them (inclusive, by package or source file), and the hottest
// functions. `pnpm bench:profile <dir>`; see docs/performance.md for how the profiles are taken.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A package (`pg@8.23.1`), a source file of ours, or a V8/Node pseudo-frame. */
function placeOf(url: string): string {
  const pkg = /node_modules\/\.pnpm\/([^/]+)\//.exec(url);
  if (pkg) return pkg[1] as string;
  const ours = /\/(packages|services|apps|bench)\/(.+)$/.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}`;
  return url === '' ? '(native)' : url;
}

export function summarize(profile: CpuProfile, top = 20): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const timeOf = new Map<number, number>();
  profile.samples.forEach((id, i) => timeOf.set(id, (timeOf.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let total = 0;
  let idle = 0;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, t] of timeOf) {
    const node = byId.get(id) as ProfileNode;
    total += t;
    if (node.callFrame.functionName === '(idle)') {
      idle += t;
      continue;
    }
    const fn = `${node.callFrame.functionName || '(anonymous)'} ${placeOf(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
    self.set(fn, (self.get(fn) ?? 0) + t);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const place = placeOf((byId.get(cur) as ProfileNode).callFrame.url);
      if (seen.has(place)) continue;
      seen.add(place);
      inclusive.set(place, (inclusive.get(place) ?? 0) + t);
    }
  }
  const busy = total - idle;
  const pct = (t: number) => `${((t / busy) * 100).toFixed(1).padStart(5)} %`;
  const lines = [
    `${(total / 1e6).toFixed(1)} s sampled, ${((busy / total) * 100).toFixed(0)} % busy; shares below are of the busy time`,
    '',
    'inclusive by package / file:',
  ];
  for (const [place, t] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(1, top + 1)) lines.push(`  ${pct(t)}  ${place}`);
  lines.push('', 'self time by function:');
  for (const [fn, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(t)}  ${fn}`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: pnpm bench:profile <directory of .cpuprofile files>');
    process.exit(2);
  }
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()) {
    console.log(`## ${file}\n\n${summarize(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile)}\n`);
  }
}
