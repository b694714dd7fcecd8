import type { Category, CreateRequestBody, CustomerClass, Urgency } from '@griddispatch/contracts';
import type { SampleCounty } from '@griddispatch/grid';
import { compactDuration } from './format.ts';

// The pure half of `griddispatch simulate`: what to send (realistic requests on the sample
// county's real 台区 and accounts, or a typhoon surge on a few feeders), when to send it (an
// open-loop schedule fixed by the clock, never by responses), and the summary of what came back.

// --- random numbers ------------------------------------------------------------------------------

/** mulberry32: small, fast, good enough for test traffic, and the same stream for the same seed. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** Index drawn with the given non-negative weights (cumulative sums precomputed by the caller). */
  weighted(cumulative: readonly number[]): number {
    const total = cumulative[cumulative.length - 1] ?? 0;
    const x = this.next() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] ?? 0) > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

function cumulative(weights: number[]): number[] {
  let sum = 0;
  return weights.map((w) => (sum += w));
}

// --- schedule ------------------------------------------------------------------------------------

/** Requests a run sends: rate × duration, rounded down. */
export function plannedCount(ratePerSecond: number, durationMs: number): number {
  return Math.floor((ratePerSecond * durationMs) / 1000 + 1e-9);
}

/** When request `i` (0-based) is due, in ms after the start. */
export function scheduledAt(i: number, ratePerSecond: number): number {
  return (i * 1000) / ratePerSecond;
}

/**
 * How many requests are due `elapsedMs` after the start: request i is due at i/rate seconds,
 * whatever the server answered so far (open loop: a slow server does not slow the offered load).
 */
export function dueCount(elapsedMs: number, ratePerSecond: number, total: number): number {
  if (elapsedMs < 0) return 0;
  return Math.min(total, Math.floor((elapsedMs * ratePerSecond) / 1000 + 1e-9) + 1);
}

// --- requests ------------------------------------------------------------------------------------

export type SimSource = '95598' | '12345';

export interface GeneratorOptions {
  county: SampleCounty;
  seed: number;
  storm: boolean;
  source: SimSource;
  /** Makes external ids unique per run: the same seed run twice sends new requests, not duplicates. */
  runId: string;
}

export interface SimRequest {
  body: CreateRequestBody;
  /** A resend of an earlier request (the source system retrying): the API answers duplicate=true. */
  retry: boolean;
  /** The 10 kV feeder of the request's 台区, for the storm report. */
  feederCode: string;
}

const NORMAL_MIX: [Category, number][] = [
  ['fault_repair', 45],
  ['consultation', 15],
  ['billing', 12],
  ['new_connection', 8],
  ['complaint', 8],
  ['service_request', 7],
  ['report', 5],
];
const NORMAL_CUM = cumulative(NORMAL_MIX.map(([, w]) => w));

const DESCRIPTIONS: Record<Category, string[]> = {
  fault_repair: ['家里突然停电了', '整栋楼没电', '电表箱冒烟', '一相没电，灯忽明忽暗', '门口电线被风刮断了'],
  new_connection: ['新建养殖棚申请用电报装', '新房装修申请接电', '商铺增容申请'],
  billing: ['这个月电费比平时高很多', '缴费后仍显示欠费', '想改用阶梯电价账单'],
  consultation: ['咨询停电计划', '咨询峰谷电价', '咨询电动汽车充电桩报装'],
  complaint: ['抢修人员迟迟未到', '停电未提前通知'],
  report: ['发现有人私拉电线', '电杆倾斜有安全隐患'],
  service_request: ['独居老人家中线路老化，请上门检查', '微心愿：帮忙更换楼道灯'],
};
const STORM_DESCRIPTIONS = ['台风过境后停电', '大风刮倒树木压断线路，全村停电', '暴雨后整片没电', '台风天停电，家里有老人'];
const CLASS_DESCRIPTIONS: Partial<Record<CustomerClass, string>> = {
  aquaculture: '鱼塘增氧机停了，鱼缺氧，急',
  cold_storage: '冷库断电，水产品要化了',
  important: '医院/学校停电，请立即处理',
  vulnerable: '家中有行动不便的老人，停电无法照明',
};

interface CustomerPick {
  accountNo: string;
  name?: string | undefined;
  phone?: string | undefined;
  classes: CustomerClass[];
  districtCode: string;
}

export interface RequestGenerator {
  next(now: Date): SimRequest;
  /** Feeders the typhoon hits (storm mode), e.g. `10kV湖滨线 (HH-10kV-01)`. */
  stormFeeders: string[];
}

function urgencyFor(category: Category, classes: CustomerClass[], storm: boolean): Urgency {
  if (category !== 'fault_repair' && category !== 'report') return 'normal';
  if (classes.includes('important')) return 'critical';
  if (classes.includes('aquaculture') || classes.includes('cold_storage') || classes.includes('vulnerable')) return 'urgent';
  return storm ? 'urgent' : 'normal';
}

/**
 * Realistic traffic on the sample county. Normal: a category mix like a county's 95598 day, any
 * customer. Storm: 90 % fault calls, of which most come from the 台区 on 2–3 feeders the typhoon
 * tripped, with a few 台区 calling again and again (several customers of one transformer, and
 * the same customer calling back).
 */
export function createRequestGenerator(options: GeneratorOptions): RequestGenerator {
  const { county, storm, source, runId } = options;
  const rng = new Rng(options.seed);
  const districts = new Map(county.districts.map((d) => [d.code, d]));
  const customersByDistrict = new Map<string, CustomerPick[]>();
  for (const c of county.customers) {
    const list = customersByDistrict.get(c.districtCode) ?? [];
    list.push({ accountNo: c.accountNo, name: c.name, phone: c.phone, classes: c.classes, districtCode: c.districtCode });
    customersByDistrict.set(c.districtCode, list);
  }
  const populated = county.districts.filter((d) => (customersByDistrict.get(d.code)?.length ?? 0) > 0);
  if (populated.length === 0) throw new Error('the sample county has no customers');
  const communityOfGrid = new Map<string, string[]>();
  for (const c of county.communities) communityOfGrid.set(c.gridId, [...(communityOfGrid.get(c.gridId) ?? []), c.code]);
  const gridParent = new Map(county.grids.map((g) => [g.id, g.parentId]));

  // Storm: the tripped feeders and how strongly each of their 台区 calls (a few call a lot).
  const stormFeeders: string[] = [];
  let stormDistricts: string[] = [];
  let stormCum: number[] = [];
  if (storm) {
    // A typhoon's path crosses one station's area: its feeders with enough 台区 to matter.
    const eligible = county.feeders.filter((f) => county.districts.filter((d) => d.feederCode === f.code).length >= 10);
    const stations = [...new Set(eligible.map((f) => f.areaGridId))].filter((s) => eligible.filter((f) => f.areaGridId === s).length >= 2);
    const station = stations.length > 0 ? rng.pick(stations) : undefined;
    const feeders = station === undefined ? eligible : eligible.filter((f) => f.areaGridId === station);
    const k = 2 + rng.int(2);
    const chosen: typeof feeders = [];
    while (chosen.length < Math.min(k, feeders.length)) {
      const f = rng.pick(feeders);
      if (!chosen.includes(f)) chosen.push(f);
    }
    stormFeeders.push(...chosen.map((f) => `${f.name} (${f.code})`));
    const codes = new Set(chosen.map((f) => f.code));
    stormDistricts = populated.filter((d) => codes.has(d.feederCode)).map((d) => d.code);
    // Zipf-like: the i-th 台区 in a shuffled order calls with weight 1/(i+1)^0.9.
    for (let i = stormDistricts.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [stormDistricts[i], stormDistricts[j]] = [stormDistricts[j]!, stormDistricts[i]!];
    }
    stormCum = cumulative(stormDistricts.map((_, i) => 1 / Math.pow(i + 1, 0.9)));
  }

  let seq = 0;
  const recent: SimRequest[] = [];
  const recentCallers: CustomerPick[] = [];

  function anyCustomer(): CustomerPick {
    return rng.pick(customersByDistrict.get(rng.pick(populated).code)!);
  }

  function stormCustomer(): CustomerPick {
    // Some callers call back a few minutes later (a new call, a new work-order number).
    if (recentCallers.length > 0 && rng.chance(0.1)) return rng.pick(recentCallers);
    const code = stormDistricts[rng.weighted(stormCum)]!;
    const list = customersByDistrict.get(code)!;
    // Aquaculture farms lose their fish first: they call first and most.
    const farms = list.filter((c) => c.classes.includes('aquaculture'));
    return farms.length > 0 && rng.chance(0.4) ? rng.pick(farms) : rng.pick(list);
  }

  function body(category: Category, customer: CustomerPick, now: Date, isStorm: boolean): CreateRequestBody {
    seq += 1;
    const district = districts.get(customer.districtCode)!;
    const special = customer.classes.find((c) => CLASS_DESCRIPTIONS[c]);
    const description =
      category === 'fault_repair' && special && rng.chance(0.7)
        ? CLASS_DESCRIPTIONS[special]!
        : isStorm
          ? rng.pick(STORM_DESCRIPTIONS)
          : rng.pick(DESCRIPTIONS[category]);
    const reportedAt = new Date(now.getTime() - rng.int(120) * 1000).toISOString();
    const urgency = urgencyFor(category, customer.classes, isStorm);
    const externalId = `${source}-${runId}-${String(seq).padStart(6, '0')}`;
    const request = { source, externalId, category, description, reportedAt, urgency };
    if (source === '95598') {
      return {
        ...request,
        customer: { accountNo: customer.accountNo, name: customer.name, phone: customer.phone, classes: customer.classes },
        location: { districtCode: district.code, feederCode: district.feederCode, address: district.name },
      };
    }
    // 12345 cases come from the social-grid platform: the reporter's position and community,
    // sometimes the account number when the citizen knows it.
    const parent = gridParent.get(district.gridId) ?? null;
    const communities = (parent && communityOfGrid.get(parent)) || communityOfGrid.get(district.gridId) || [];
    const jitter = () => (rng.next() - 0.5) * 0.0004;
    return {
      ...request,
      customer: { ...(rng.chance(0.4) ? { accountNo: customer.accountNo } : {}), name: customer.name, phone: customer.phone },
      location: {
        ...(communities.length > 0 ? { communityCode: rng.pick(communities) } : {}),
        ...(district.lon !== undefined && district.lat !== undefined
          ? { lon: Math.round((district.lon + jitter()) * 1e6) / 1e6, lat: Math.round((district.lat + jitter()) * 1e6) / 1e6 }
          : { districtCode: district.code }),
        address: `${district.name}附近`,
      },
    };
  }

  function remember(request: SimRequest, caller: CustomerPick | null): SimRequest {
    recent.push(request);
    if (recent.length > 200) recent.shift();
    if (caller) {
      recentCallers.push(caller);
      if (recentCallers.length > 50) recentCallers.shift();
    }
    return request;
  }

  return {
    stormFeeders,
    next(now) {
      // ~2 % are the source system resending a request it already sent (same key, same body).
      if (recent.length > 10 && rng.chance(0.02)) {
        const again = rng.pick(recent);
        return { ...again, retry: true };
      }
      if (storm && rng.chance(0.9)) {
        const inSurge = rng.chance(0.85);
        const caller = inSurge ? stormCustomer() : anyCustomer();
        const b = body('fault_repair', caller, now, true);
        return remember({ body: b, retry: false, feederCode: districts.get(caller.districtCode)!.feederCode }, inSurge ? caller : null);
      }
      const category = NORMAL_MIX[rng.weighted(NORMAL_CUM)]![0];
      const caller = anyCustomer();
      return remember({ body: body(category, caller, now, storm), retry: false, feederCode: districts.get(caller.districtCode)!.feederCode }, null);
    },
  };
}

// --- results -------------------------------------------------------------------------------------

export interface SendResult {
  /** HTTP status, or a network error code (ECONNREFUSED, timeout) when no response came. */
  status: number | string;
  duplicate?: boolean;
  /** From the scheduled send time to the end of the response (client-side queueing included). */
  latencyMs: number;
}

export interface Summary {
  planned: number;
  sent: number;
  completed: number;
  accepted: number;
  duplicates: number;
  errors: number;
  errorsByStatus: [string, number][];
  latency: { p50: number; p99: number; max: number } | null;
  /** The whole run, answers included. */
  elapsedMs: number;
  /** From the start until the last request was due to leave plus one interval: what the rate is measured over. */
  sendWindowMs: number;
}

/** Nearest-rank percentile of ascending values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export class SimStats {
  sent = 0;
  private readonly results: SendResult[] = [];

  constructor(readonly planned: number) {}

  record(result: SendResult): void {
    this.results.push(result);
  }

  get completed(): number {
    return this.results.length;
  }

  get inFlight(): number {
    return this.sent - this.results.length;
  }

  get accepted(): number {
    return this.results.filter((r) => r.status === 202 && !r.duplicate).length;
  }

  get errors(): number {
    return this.results.filter((r) => r.status !== 202).length;
  }

  summary(elapsedMs: number, sendWindowMs = elapsedMs): Summary {
    const byStatus = new Map<string, number>();
    let accepted = 0;
    let duplicates = 0;
    for (const r of this.results) {
      if (r.status === 202) {
        if (r.duplicate) duplicates += 1;
        else accepted += 1;
      } else {
        byStatus.set(String(r.status), (byStatus.get(String(r.status)) ?? 0) + 1);
      }
    }
    const latencies = this.results
      .filter((r) => typeof r.status === 'number')
      .map((r) => r.latencyMs)
      .sort((a, b) => a - b);
    return {
      planned: this.planned,
      sent: this.sent,
      completed: this.results.length,
      accepted,
      duplicates,
      errors: this.results.length - accepted - duplicates,
      errorsByStatus: [...byStatus].sort((a, b) => b[1] - a[1]),
      latency: latencies.length > 0 ? { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1]! } : null,
      elapsedMs,
      sendWindowMs,
    };
  }
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
}

/** The report printed at the end of a run. */
export function formatSummary(s: Summary, ctx: { ratePerSecond: number; stormFeeders: string[]; url: string }): string {
  const secs = s.elapsedMs / 1000;
  const lines = [
    `simulate: ${s.sent} of ${s.planned} requests sent to ${ctx.url} in ${secs.toFixed(1)}s (target ${ctx.ratePerSecond}/s, achieved ${(s.sent / Math.max(0.001, s.sendWindowMs / 1000)).toFixed(1)}/s)`,
  ];
  if (ctx.stormFeeders.length > 0) lines.push(`  storm on       ${ctx.stormFeeders.join(', ')}`);
  lines.push(`  sent           ${s.sent}`);
  lines.push(`  accepted 202   ${s.accepted}`);
  lines.push(`  duplicates     ${s.duplicates}   (202 with duplicate=true: resends of an earlier request)`);
  const errors = s.errorsByStatus.map(([status, n]) => `${status} ×${n}`).join(', ');
  lines.push(`  errors         ${s.errors}${errors ? `   (${errors})` : ''}`);
  if (s.sent > s.completed) lines.push(`  no answer      ${s.sent - s.completed}   (still in flight when the run stopped)`);
  lines.push(
    s.latency
      ? `  latency        p50 ${ms(s.latency.p50)} · p99 ${ms(s.latency.p99)} · max ${ms(s.latency.max)}   (from the scheduled send time)`
      : '  latency        —',
  );
  if (s.errorsByStatus.some(([status]) => status === '429')) {
    lines.push('  hint: 429 is the per-key rate limit; start the server with GD_RATE_LIMIT_MAX=0 for load tests');
  }
  return lines.join('\n') + '\n';
}

/** The one-line progress report: a bar on a terminal, plain text in logs. */
export function formatProgress(
  stats: { planned: number; sent: number; completed: number; accepted: number; errors: number; inFlight: number },
  elapsedMs: number,
  durationMs: number,
  bar: boolean,
): string {
  const fraction = stats.planned > 0 ? Math.min(1, stats.sent / stats.planned) : 1;
  const left = Math.max(0, durationMs - elapsedMs);
  const counts = `${stats.sent}/${stats.planned} sent · ${stats.accepted} accepted · ${stats.errors} errors · ${stats.inFlight} in flight · ${compactDuration(left)} left`;
  if (!bar) return `simulate: ${(elapsedMs / 1000).toFixed(0)}s ${counts}`;
  const width = 30;
  const full = Math.round(fraction * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${String(Math.round(fraction * 100)).padStart(3)}% ${counts}`;
}
