import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import {
  BENCH_SCALE,
  compileGeometry,
  createGridIndex,
  csvChunks,
  generateSampleCounty,
  locateInPolygon,
  parseCsv,
  validatePolygons,
  type GridQuery,
  type GridRecord,
  type Position,
} from '@griddispatch/grid';

// Grid resolution at the benchmark scale of docs/architecture.md#sample-data: 10,016 polygons, 1,000,000 customer
// accounts. `pnpm bench:routing` (env BENCH_ROUTING_QUERIES to change the query count).
// A routing decision = what grid-routing does per request in memory: for an account, look the
// account up in a customer registry (a Map here, standing in for the service's lookup) and
// resolve its 台区; otherwise resolve the 台区 code, the point, or the community code.
// The yardsticks, measured in the same run on the same point queries: a textbook linear scan
// (ray casting over every polygon's GeoJSON rings) and a linear scan with a bounding-box test first.

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const QUERIES = Number(process.env.BENCH_ROUTING_QUERIES ?? 400_000);
const NAIVE_QUERIES = 1_000;
const NEAREST_M = 500;

const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);
function memory() {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external + m.arrayBuffers };
}
function log(msg: string) {
  process.stdout.write(`${msg}\n`);
}

// Deterministic query mix (its own PRNG so runs compare).
let s = 0x9e3779b9;
const rand = () => {
  s = (s + 0x6d2b79f5) >>> 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)] as T;

const started = performance.now();

/** Everything that needs the county in memory; returns what the import phase needs and lets the rest go. */
function routingPhase() {
  let t = performance.now();
  const county = generateSampleCounty(BENCH_SCALE);
  const genMs = performance.now() - t;
  const polygons = county.grids.filter((g) => g.polygon !== null);
  log(
    `sample county ${JSON.stringify(BENCH_SCALE)}: ${county.grids.length} grids, ${polygons.length} polygons, ${county.districts.length} 台区, ${county.customers.length} customers (generated in ${round(genMs / 1000, 2)} s)`,
  );

  // Customer registry: account → 台区 (what the service looks up before resolving).
  let before = memory();
  t = performance.now();
  const registry = new Map<string, string>();
  for (const c of county.customers) registry.set(c.accountNo, c.districtCode);
  const registryMs = performance.now() - t;
  let after = memory();
  const registryMb = mb(after.heap - before.heap);

  // Index build and memory.
  before = memory();
  t = performance.now();
  const index = createGridIndex({ grids: county.grids, districts: county.districts, communities: county.communities, nearestWithinMeters: NEAREST_M });
  const buildMs = performance.now() - t;
  after = memory();
  const indexHeapMb = mb(after.heap - before.heap);
  const indexExternalMb = mb(after.external - before.external);
  log(
    `index build ${round(buildMs)} ms; memory heap +${indexHeapMb} MB, typed arrays +${indexExternalMb} MB (customer registry Map: ${registryMb} MB, built in ${round(registryMs)} ms)`,
  );

  // Query mix: 40 % account, 20 % 台区 code, 30 % point (anywhere in a random grid's bounding box,
  // so some land in neighbours and some outside → nearest), 10 % community code.
  type Kind = 'account' | 'district' | 'point' | 'community';
  const districtGrids = county.grids.filter((g) => g.polygon !== null && g.kind === 'district');
  const bboxes = districtGrids.map((g) => {
    const ring = (g.polygon?.type === 'Polygon' ? g.polygon.coordinates[0] : g.polygon?.coordinates[0]?.[0]) as Position[];
    const xs = ring.map((p) => p[0] as number);
    const ys = ring.map((p) => p[1] as number);
    return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)] as const;
  });
  const queries: { kind: Kind; account?: string; q: GridQuery }[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const r = rand();
    if (r < 0.4) queries.push({ kind: 'account', account: pick(county.customers).accountNo, q: {} });
    else if (r < 0.6) queries.push({ kind: 'district', q: { districtCode: pick(county.districts).code } });
    else if (r < 0.9) {
      const [x0, y0, x1, y1] = pick(bboxes);
      const pad = 0.004; // ~400 m around the box: some points fall outside every polygon
      queries.push({ kind: 'point', q: { lon: x0 - pad + rand() * (x1 - x0 + 2 * pad), lat: y0 - pad + rand() * (y1 - y0 + 2 * pad) } });
    } else queries.push({ kind: 'community', q: { communityCode: pick(county.communities).code } });
  }

  function decide(item: (typeof queries)[number]) {
    if (item.kind === 'account') {
      const districtCode = registry.get(item.account as string);
      return index.resolve({ accountDistrictCode: districtCode });
    }
    return index.resolve(item.q);
  }

  // Warm up, then throughput (no per-call timing), then latency (per-call timing).
  for (let i = 0; i < Math.min(50_000, queries.length); i++) decide(queries[i] as (typeof queries)[number]);
  t = performance.now();
  const outcomes: Record<string, number> = {};
  for (const item of queries) {
    const r = decide(item);
    const key = r.ok ? r.resolvedBy : 'unroutable';
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  }
  const throughputMs = performance.now() - t;
  const perSecond = Math.round(queries.length / (throughputMs / 1000));

  const ns = new Float64Array(queries.length);
  const byKind = new Map<Kind, number[]>();
  for (let i = 0; i < queries.length; i++) {
    const item = queries[i] as (typeof queries)[number];
    const t0 = process.hrtime.bigint();
    decide(item);
    const d = Number(process.hrtime.bigint() - t0);
    ns[i] = d;
    let list = byKind.get(item.kind);
    if (!list) byKind.set(item.kind, (list = []));
    list.push(d);
  }
  const pct = (arr: ArrayLike<number>, p: number) => {
    const sorted = Float64Array.from(arr).sort();
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
  };
  const latency = {
    p50Us: round(pct(ns, 50) / 1000, 2),
    p99Us: round(pct(ns, 99) / 1000, 2),
    p999Us: round(pct(ns, 99.9) / 1000, 2),
    maxUs: round(ns.reduce((a, b) => (b > a ? b : a), 0) / 1000, 1),
  };
  const kinds = Object.fromEntries(
    [...byKind].map(([k, list]) => [
      k,
      {
        share: round(list.length / queries.length, 3),
        meanUs: round(list.reduce((a, b) => a + b, 0) / list.length / 1000, 2),
        p99Us: round(pct(list, 99) / 1000, 2),
      },
    ]),
  );
  log(
    `routing: ${queries.length} decisions in ${round(throughputMs)} ms → ${perSecond.toLocaleString('en')} decisions/s; per decision p50 ${latency.p50Us} µs, p99 ${latency.p99Us} µs, p99.9 ${latency.p999Us} µs`,
  );
  log(`  by kind: ${JSON.stringify(kinds)}`);
  log(`  outcomes: ${JSON.stringify(outcomes)}`);

  // Yardsticks on point queries: the index vs linear scans over all polygons.
  const points = queries
    .filter((q) => q.kind === 'point')
    .slice(0, NAIVE_QUERIES)
    .map((q) => [q.q.lon as number, q.q.lat as number] as const);
  const KIND_RANK = { district: 0, feeder: 1, area: 2 } as const;
  const better = (a: GridRecord, b: GridRecord | null) =>
    !b || KIND_RANK[a.kind] < KIND_RANK[b.kind] || (KIND_RANK[a.kind] === KIND_RANK[b.kind] && a.id < b.id);

  function textbookContains(rings: Position[][], x: number, y: number): boolean {
    let inside = false;
    for (const ring of rings) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i] as [number, number];
        const [xj, yj] = ring[j] as [number, number];
        if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
      }
    }
    return inside;
  }
  function naiveScan(x: number, y: number): GridRecord | null {
    let best: GridRecord | null = null;
    for (const g of polygons) {
      const parts = g.polygon?.type === 'Polygon' ? [g.polygon.coordinates] : (g.polygon?.coordinates ?? []);
      if (parts.some((rings) => textbookContains(rings, x, y)) && better(g, best)) best = g;
    }
    return best;
  }
  const compiled = polygons.map((g) => ({ g, parts: compileGeometry(g.polygon as NonNullable<GridRecord['polygon']>) }));
  function bboxScan(x: number, y: number): GridRecord | null {
    let best: GridRecord | null = null;
    for (const { g, parts } of compiled) {
      if (parts.some((p) => locateInPolygon(p, x, y) !== 'outside') && better(g, best)) best = g;
    }
    return best;
  }
  /** Passes over the points until `minMs` have gone by (one pass at least), results of the first. */
  function timeIt<R>(fn: (x: number, y: number) => R, minMs = 300): { perSecond: number; results: R[] } {
    const results: R[] = [];
    let calls = 0;
    const t0 = performance.now();
    do {
      for (const [x, y] of points) {
        const r = fn(x, y);
        if (calls < points.length) results.push(r);
        calls++;
      }
    } while (performance.now() - t0 < minMs);
    return { perSecond: calls / ((performance.now() - t0) / 1000), results };
  }
  for (const [x, y] of points.slice(0, 100)) {
    naiveScan(x, y);
    bboxScan(x, y);
  }
  const indexRun = timeIt((x, y) => index.resolve({ lon: x, lat: y }));
  const naiveRun = timeIt(naiveScan);
  const indexPoint = indexRun.perSecond;
  const naivePoint = naiveRun.perSecond;
  const bboxPoint = timeIt(bboxScan).perSecond;
  // Cross-check: every point inside a polygon gets the same grid from the index and the scan.
  let mismatches = 0;
  let inside = 0;
  naiveRun.results.forEach((scan, i) => {
    if (!scan) return;
    inside++;
    const r = indexRun.results[i];
    if (!r?.ok || r.gridId !== scan.id) mismatches++;
  });
  log(
    `point queries/s: index ${Math.round(indexPoint).toLocaleString('en')}, textbook linear scan ${Math.round(naivePoint).toLocaleString('en')} (index ×${round(indexPoint / naivePoint, 0)}), linear scan with bbox test ${Math.round(bboxPoint).toLocaleString('en')} (index ×${round(indexPoint / bboxPoint, 0)}); ${mismatches} disagreements in ${inside} points inside polygons`,
  );

  const csv = [...csvChunks('customers', county.customers, 50_000)].join('');
  return {
    grids: county.grids,
    csv,
    report: {
      scale: {
        ...BENCH_SCALE,
        grids: county.grids.length,
        polygons: polygons.length,
        districts: county.districts.length,
        customers: county.customers.length,
        generateMs: round(genMs),
      },
      index: { buildMs: round(buildMs), heapMb: indexHeapMb, typedArraysMb: indexExternalMb, nearestWithinMeters: NEAREST_M },
      customerRegistry: { buildMs: round(registryMs), heapMb: registryMb },
      routing: { decisions: queries.length, ms: round(throughputMs), perSecond, latency, byKind: kinds, outcomes },
      yardstick: {
        pointQueries: points.length,
        indexPerSecond: Math.round(indexPoint),
        textbookLinearScanPerSecond: Math.round(naivePoint),
        bboxLinearScanPerSecond: Math.round(bboxPoint),
        speedupVsTextbook: round(indexPoint / naivePoint, 0),
        speedupVsBboxScan: round(indexPoint / bboxPoint, 0),
        disagreements: mismatches,
        pointsInside: inside,
      },
    },
  };
}

const { grids, csv, report } = routingPhase();

// Import-side costs at this scale, with the county released (as in an importing process):
// polygon validation and parsing customers.csv.
memory();
let t = performance.now();
const polygonProblems = validatePolygons(grids).length;
const validateMs = performance.now() - t;
t = performance.now();
const parsed = parseCsv('customers', csv);
const parseMs = performance.now() - t;
log(
  `import: validatePolygons ${round(validateMs)} ms (${polygonProblems} problems); customers.csv ${mb(Buffer.byteLength(csv))} MB, ${parsed.records.length} rows parsed in ${round(parseMs)} ms (${Math.round(parsed.records.length / (parseMs / 1000)).toLocaleString('en')} rows/s, ${parsed.problems.length} problems)`,
);

const result = {
  bench: 'routing',
  at: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    loadAverage1m: round(loadavg()[0] ?? 0, 2),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: round(totalmem() / 2 ** 30, 1),
    node: process.version,
  },
  ...report,
  import: {
    validatePolygonsMs: round(validateMs),
    polygonProblems,
    customersCsvMb: mb(Buffer.byteLength(csv)),
    customersParseMs: round(parseMs),
    customersRowsPerSecond: Math.round(parsed.records.length / (parseMs / 1000)),
  },
  totalSeconds: round((performance.now() - started) / 1000, 1),
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/routing.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
log(`total ${result.totalSeconds} s → bench/results/routing.json`);
