import type { CustomerClass } from '@griddispatch/contracts';
import type { SampleCounty } from '@griddispatch/grid';

// What the benchmark posts: 95598 work orders (POST /v1/requests/95598, the 95598 system's own
// field names — services/intake/README.md) on the sample county's real 台区 and accounts, so
// every one can be routed by account and 台区 exactly as in production. Two mixes:
//   - `day`: a county's ordinary 95598 day (category mix, any customer);
//   - `storm`: only fault calls, from the 台区 of a few feeders a typhoon tripped, Zipf-weighted so
//     a few 台区 call very often, plus customers calling back (a new work order each time).

/** The 95598 adapter's payload (services/intake/src/adapters/95598.ts). */
export interface Call95598 {
  gdbh: string;
  ywlb: string;
  slsj: string;
  jjcd: string;
  khbh: string;
  khmc?: string;
  lxdh?: string;
  khfl: string[];
  gzdz: string;
  tqbh: string;
  xlbh: string;
  slnr: string;
  gddw: string;
}

/** mulberry32: the same stream for the same seed, so two runs post the same calls. */
export function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CLASS_CODE: Record<CustomerClass, string> = {
  resident: '01',
  commercial: '02',
  aquaculture: '03',
  cold_storage: '04',
  vulnerable: '05',
  important: '06',
};

/** 95598 业务类别 with a county day's weights. */
const DAY_MIX: [string, number][] = [
  ['01', 45], // 故障报修
  ['04', 15], // 咨询
  ['03', 12], // 电费
  ['02', 8], // 业扩报装
  ['05', 8], // 投诉
  ['07', 7], // 服务申请
  ['06', 5], // 举报
];

const TEXT: Record<string, string[]> = {
  '01': ['家里突然停电了', '整栋楼没电', '电表箱冒烟', '一相没电，灯忽明忽暗', '门口电线被风刮断了'],
  '02': ['新建养殖棚申请用电报装', '新房装修申请接电'],
  '03': ['这个月电费比平时高很多', '缴费后仍显示欠费'],
  '04': ['咨询停电计划', '咨询峰谷电价'],
  '05': ['抢修人员迟迟未到', '停电未提前通知'],
  '06': ['发现有人私拉电线', '电杆倾斜有安全隐患'],
  '07': ['独居老人家中线路老化，请上门检查', '微心愿：帮忙更换楼道灯'],
};
const STORM_TEXT = ['台风过境后停电', '大风刮倒树木压断线路，全村停电', '暴雨后整片没电', '鱼塘增氧机停了，鱼缺氧，急', '台风天停电，家里有老人'];

/** 1 一般, 2 紧急, 3 特急 — as a 95598 agent would grade the call. */
function urgencyCode(category: string, classes: readonly CustomerClass[], storm: boolean): string {
  if (category !== '01') return '1';
  if (classes.includes('important')) return '3';
  if (classes.includes('aquaculture') || classes.includes('cold_storage') || classes.includes('vulnerable')) return '2';
  return storm ? '2' : '1';
}

/** `yyyy-MM-dd HH:mm:ss` in Asia/Shanghai (UTC+8, no daylight saving), as 95598 sends 受理时间. */
export function shanghaiLocal(at: Date): string {
  return new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * The feeders a storm trips: the `count` with the most 台区 (ties by code), so the surge is
 * spread over real, busy lines. Fewer when the county has fewer feeders.
 */
export function stormFeeders(county: SampleCounty, count: number): SampleCounty['feeders'] {
  const districts = new Map<string, number>();
  for (const d of county.districts) districts.set(d.feederCode, (districts.get(d.feederCode) ?? 0) + 1);
  return [...county.feeders].sort((a, b) => (districts.get(b.code) ?? 0) - (districts.get(a.code) ?? 0) || a.code.localeCompare(b.code)).slice(0, count);
}

interface Caller {
  accountNo: string;
  name?: string | undefined;
  phone?: string | undefined;
  classes: CustomerClass[];
  districtCode: string;
}

export interface CallSource {
  next(now: Date): Call95598;
  /** The 台区 each call came from is in the call (tqbh); the storm's feeders, for the report. */
  feeders: { code: string; name: string; districts: number }[];
  /** 台区 that can call (have customers) in this mix. */
  districts: number;
}

export interface CallSourceOptions {
  county: SampleCounty;
  mix: 'day' | 'storm';
  seed: number;
  /** Makes work-order numbers unique per run (gdbh is the idempotency key). */
  runId: string;
  /** Storm: how many feeders are hit (default 10). */
  feeders?: number;
}

export function createCallSource(options: CallSourceOptions): CallSource {
  const { county, mix, runId } = options;
  const random = rng(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const districtByCode = new Map(county.districts.map((d) => [d.code, d]));
  const callersByDistrict = new Map<string, Caller[]>();
  for (const c of county.customers) {
    const list = callersByDistrict.get(c.districtCode) ?? [];
    list.push({ accountNo: c.accountNo, name: c.name, phone: c.phone, classes: c.classes, districtCode: c.districtCode });
    callersByDistrict.set(c.districtCode, list);
  }

  let districtCodes = county.districts.map((d) => d.code).filter((code) => (callersByDistrict.get(code)?.length ?? 0) > 0);
  let feeders: CallSource['feeders'] = [];
  let cumulative: number[] = [];
  if (mix === 'storm') {
    const hit = stormFeeders(county, options.feeders ?? 10);
    const codes = new Set(hit.map((f) => f.code));
    districtCodes = districtCodes.filter((code) => codes.has(districtByCode.get(code)!.feederCode));
    feeders = hit.map((f) => ({ code: f.code, name: f.name, districts: districtCodes.filter((c) => districtByCode.get(c)!.feederCode === f.code).length }));
    // Zipf-like: after a seeded shuffle, the i-th 台区 calls with weight 1/(i+1)^0.9 — the
    // transformers that tripped first and serve the most households ring the most.
    for (let i = districtCodes.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [districtCodes[i], districtCodes[j]] = [districtCodes[j]!, districtCodes[i]!];
    }
    let sum = 0;
    cumulative = districtCodes.map((_, i) => (sum += 1 / Math.pow(i + 1, 0.9)));
  }
  if (districtCodes.length === 0) throw new Error('the sample county has no 台区 with customers for this mix');
  const dayCumulative: number[] = [];
  DAY_MIX.reduce((sum, [, w]) => {
    dayCumulative.push(sum + w);
    return sum + w;
  }, 0);

  const weighted = (cum: readonly number[]): number => {
    const x = random() * cum[cum.length - 1]!;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };

  let seq = 0;
  const recentCallers: Caller[] = [];

  function stormCaller(): Caller {
    // One in ten is somebody calling back: a new 95598 work order from the same account.
    if (recentCallers.length > 0 && random() < 0.1) return pick(recentCallers);
    const callers = callersByDistrict.get(districtCodes[weighted(cumulative)]!)!;
    const farms = callers.filter((c) => c.classes.includes('aquaculture'));
    const caller = farms.length > 0 && random() < 0.4 ? pick(farms) : pick(callers);
    recentCallers.push(caller);
    if (recentCallers.length > 100) recentCallers.shift();
    return caller;
  }

  return {
    feeders,
    districts: districtCodes.length,
    next(now) {
      seq += 1;
      const storm = mix === 'storm';
      const category = storm ? '01' : DAY_MIX[weighted(dayCumulative)]![0];
      const caller = storm ? stormCaller() : pick(callersByDistrict.get(pick(districtCodes))!);
      const district = districtByCode.get(caller.districtCode)!;
      return {
        gdbh: `E2E${runId}${String(seq).padStart(7, '0')}`,
        ywlb: category,
        slsj: shanghaiLocal(now),
        jjcd: urgencyCode(category, caller.classes, storm),
        khbh: caller.accountNo,
        ...(caller.name ? { khmc: caller.name } : {}),
        ...(caller.phone ? { lxdh: caller.phone } : {}),
        khfl: caller.classes.map((c) => CLASS_CODE[c]),
        gzdz: district.name,
        tqbh: district.code,
        xlbh: district.feederCode,
        slnr: pick(storm ? STORM_TEXT : TEXT[category]!),
        gddw: '4240110',
      };
    },
  };
}
