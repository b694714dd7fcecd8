import { compileGeometry, locateInPolygon } from '../geometry.ts';
import { linkDistricts } from '../import/import-set.ts';
import type {
  CommunityRecord,
  CustomerClass,
  CustomerRecord,
  DistrictRecord,
  FeederRecord,
  GridGeometry,
  GridRecord,
  RosterEntry,
  StaffAssignment,
  StaffRecord,
  Weekday,
} from '../types.ts';
import { blockRing, cellPoint, holeRing, makeLattice, round6, type Lattice } from './lattice.ts';
import { LAKE_PLACES, TOWN_PLACES, mobile, personName, shopName } from './names.ts';
import { Rng, apportion, mixSeed } from './prng.ts';

export interface SampleCountyOptions {
  /** Default 1. The same seed always gives the same county. */
  seed?: number;
  /**
   * Number of copies of the county (1 … MAX_SCALE): each copy adds the two stations again, moved
   * on the map and with their own codes, so grids, polygons, 台区, feeders and staff grow linearly
   * (32 polygons per copy). Default 1.
   */
  scale?: number;
  /**
   * Multiplies the customer accounts only (default = `scale`), spread over all copies. The
   * benchmark uses `BENCH_SCALE` = { scale: 313, customerScale: 50 }: 10,016 polygons and
   * 1,000,000 customers.
   */
  customerScale?: number;
}

export interface SampleCounty {
  grids: GridRecord[];
  districts: DistrictRecord[];
  feeders: FeederRecord[];
  communities: CommunityRecord[];
  customers: CustomerRecord[];
  staff: StaffRecord[];
  rosters: RosterEntry[];
}

/** The facts of DESIGN §9 at scale 1 (copy 0 keeps its geometry and staff at any scale). */
export const SAMPLE_FACTS = {
  houhu: {
    districtGrids: 7,
    districts: 157,
    feeders: 4,
    customers: 13_700,
    aquaculture: 1_811,
    coldStorageLarge: 2,
    coldStorageSmall: 6,
    staff: 22,
    managers: 7,
  },
  tiancheng: { communities: 8, districtGrids: 16, districts: 64, feeders: 4, customers: 6_300, important: 6, staff: 47, managers: 16 },
  polygonsPerCopy: 32,
  gridsPerCopy: 33,
} as const;

export const MAX_SCALE = 800;

/** The scale of the routing benchmark: 10,016 polygons and 1,000,000 customer accounts. */
export const BENCH_SCALE = { scale: 313, customerScale: 50 } as const;

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** Deterministic sample county per DESIGN §9: the rural 后湖 station and urban 天城镇 of 崇阳 county. */
export function generateSampleCounty(options: SampleCountyOptions = {}): SampleCounty {
  const seed = options.seed ?? 1;
  const scale = options.scale ?? 1;
  const customerScale = options.customerScale ?? scale;
  if (!Number.isInteger(scale) || scale < 1 || scale > MAX_SCALE) throw new RangeError(`scale must be an integer from 1 to ${MAX_SCALE}, got ${scale}`);
  if (!Number.isFinite(customerScale) || customerScale <= 0) throw new RangeError(`customerScale must be a positive number, got ${customerScale}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);

  const county: SampleCounty = { grids: [], districts: [], feeders: [], communities: [], customers: [], staff: [], rosters: [] };
  const totals = {
    houhu: Math.round(SAMPLE_FACTS.houhu.customers * customerScale),
    aquaculture: Math.round(SAMPLE_FACTS.houhu.aquaculture * customerScale),
    tiancheng: Math.round(SAMPLE_FACTS.tiancheng.customers * customerScale),
  };
  // Copy k's share of a total, so that the shares add up exactly.
  const share = (total: number, k: number): number => Math.floor((total * (k + 1)) / scale) - Math.floor((total * k) / scale);
  let accountSeq = 0;
  // Unique 10-digit account numbers that do not look sequential: an affine map modulo 6e9
  // (1,000,003 is coprime with 6e9, so no two sequence numbers collide).
  const nextAccount = (): string => String(3_000_000_000 + ((accountSeq++ * 1_000_003 + 7_654_321) % 6_000_000_000));

  for (let k = 0; k < scale; k++) {
    buildHouhu(county, seed, k, share(totals.houhu, k), share(totals.aquaculture, k), nextAccount);
    buildTiancheng(county, seed, k, share(totals.tiancheng, k), nextAccount);
  }
  linkDistricts(county.grids, county.districts);
  return county;
}

interface Copy {
  k: number;
  /** Code prefix: `HH` for copy 0, `HH2`, `HH3`… after. */
  prefix: string;
  /** Name suffix: '' for copy 0, `(2)`, `(3)`… after. */
  suffix: string;
}

function copyOf(base: string, k: number): Copy {
  return { k, prefix: k === 0 ? base : `${base}${k + 1}`, suffix: k === 0 ? '' : `(${k + 1})` };
}

/** Copies sit on a 40-wide lattice of 0.2° × 0.1° blocks: 后湖 copies go north, 天城 copies south. */
function offset(k: number): { ox: number; oy: number } {
  return { ox: (k % 40) * 0.2, oy: Math.floor(k / 40) * 0.1 };
}

function cellPolygon(lattice: Lattice, c: number, r: number, holes: number[][][] = []): GridGeometry {
  return { type: 'Polygon', coordinates: [blockRing(lattice, c, r, c + 1, r + 1), ...holes] };
}

/** A transformer location strictly inside the grid's polygon (rejection sampling in the cell). */
function pointInCell(rng: Rng, lattice: Lattice, c: number, r: number, polygon: GridGeometry): { lon: number; lat: number } {
  const parts = compileGeometry(polygon);
  for (let attempt = 0; attempt < 1000; attempt++) {
    const [x, y] = cellPoint(lattice, c, r, rng.range(0.12, 0.88), rng.range(0.12, 0.88));
    const lon = round6(x);
    const lat = round6(y);
    if (parts.some((p) => locateInPolygon(p, lon, lat) === 'inside')) return { lon, lat };
  }
  throw new Error(`no point found inside cell ${c},${r}`);
}

function roster(staffId: string, days: Weekday[], start: string, end: string): RosterEntry {
  return { staffId, days, start, end, validFrom: null, validTo: null };
}

const WORKDAYS: Weekday[] = [1, 2, 3, 4, 5];
const WEEKEND: Weekday[] = [6, 7];
/** Three repair-crew teams on 24 h shifts from 08:00, rotating through the week. */
const CREW_TEAMS: Weekday[][] = [
  [1, 4, 7],
  [2, 5],
  [3, 6],
];

function addCrewAndHead(county: SampleCounty, rng: Rng, p: string, firstNo: number, areaGridId: string): void {
  for (let t = 0; t < 6; t++) {
    const id = `${p}-S${pad(firstNo + t, 2)}`;
    county.staff.push({ id, name: personName(rng), phone: mobile(rng), assignments: [{ gridId: areaGridId, role: 'repair_crew' }] });
    county.rosters.push(roster(id, CREW_TEAMS[Math.floor(t / 2)] as Weekday[], '08:00', '08:00'));
  }
  const head = `${p}-S${pad(firstNo + 6, 2)}`;
  county.staff.push({ id: head, name: personName(rng), phone: mobile(rng), assignments: [{ gridId: areaGridId, role: 'station_head' }] });
  county.rosters.push(roster(head, WORKDAYS, '08:30', '17:30'));
}

/** 后湖 supply station: rural lake area, 7 大台区 grids around the lake, 157 台区 on 4 feeders. */
function buildHouhu(county: SampleCounty, seed: number, k: number, customerCount: number, aquacultureCount: number, nextAccount: () => string): void {
  const { prefix: p, suffix: s } = copyOf('HH', k);
  const geo = new Rng(mixSeed(seed, k, 1));
  const { ox, oy } = offset(k);
  const lattice = makeLattice(geo, { x0: 114.12 + ox, y0: 30.6 + oy, cols: 4, rows: 2, dx: 0.04, dy: 0.04 });
  const township = `420116${pad(110 + k, 3)}`;

  county.grids.push({
    id: p,
    name: `后湖供电所${s}`,
    kind: 'area',
    parentId: null,
    areaType: 'rural',
    communityCode: `${township}000`,
    polygon: { type: 'Polygon', coordinates: [blockRing(lattice, 0, 0, 4, 2)] },
    districts: [],
  });
  ['后湖村', '刘家湾村', '张家墩村', '湖口村', '新洲村'].forEach((name, i) => {
    county.communities.push({ code: `${township}${pad(201 + i, 3)}`, name: `${name}${s}`, gridId: p });
  });
  ['湖滨', '渔场', '新洲', '堤北'].forEach((name, f) => {
    county.feeders.push({ code: `${p}-10kV-${pad(f + 1, 2)}`, name: `10kV${name}线${s}`, areaGridId: p });
  });

  // Cell (1,1) is the lake itself: no district grid there, the area grid still covers it.
  const cells: [number, number][] = [[0, 0], [1, 0], [2, 0], [3, 0], [0, 1], [2, 1], [3, 1]];
  const districtsPerGrid = [23, 22, 22, 22, 23, 22, 23];
  const tq: DistrictRecord[] = [];
  cells.forEach(([c, r], g) => {
    // Grid 3 has a fish-pond reserve cut out of it (a hole), which the area grid covers.
    const holes = g === 2 ? [holeRing(geo, ...cellPoint(lattice, c, r, 0.5, 0.5), 0.12 * lattice.dx, 0.12 * lattice.dy)] : [];
    const polygon = cellPolygon(lattice, c, r, holes);
    const id = `${p}-G${pad(g + 1, 2)}`;
    county.grids.push({ id, name: `后湖${g + 1}号网格${s}`, kind: 'district', parentId: p, areaType: 'rural', communityCode: null, polygon, districts: [] });
    for (let n = 0; n < (districtsPerGrid[g] as number); n++) {
      const code = `${p}-TQ-${pad(tq.length + 1, 3)}`;
      const at = pointInCell(geo, lattice, c, r, polygon);
      tq.push({ code, name: `${geo.pick(LAKE_PLACES)}${n + 1}号台区${s}`, feederCode: `${p}-10kV-${pad(c + 1, 2)}`, gridId: id, ...at });
    }
  });
  county.districts.push(...tq);

  // Customers: 1,811 aquaculture (aerators: the 30-minute circle), 2 large and 6 small
  // aquatic-product processors with cold storage, some vulnerable and commercial accounts.
  const people = new Rng(mixSeed(seed, k, 2));
  const perDistrict = apportion(customerCount, tq.map(() => people.range(0.6, 1.4)));
  const processors = SAMPLE_FACTS.houhu.coldStorageLarge + SAMPLE_FACTS.houhu.coldStorageSmall;
  const vulnerable = Math.round(customerCount * 0.025);
  const commercial = Math.round(customerCount * 0.05);
  if (aquacultureCount + processors > customerCount) {
    throw new RangeError(`customerScale too small for scale: ${customerCount} accounts cannot hold ${aquacultureCount} aquaculture farms and ${processors} processors`);
  }
  const special = people.sample(customerCount, Math.min(customerCount, aquacultureCount + processors + vulnerable + commercial));
  const kind = new Uint8Array(customerCount); // 0 resident, 1 aquaculture, 2 large processor, 3 small processor, 4 vulnerable, 5 commercial
  special.forEach((idx, i) => {
    kind[idx] =
      i < aquacultureCount ? 1
      : i < aquacultureCount + SAMPLE_FACTS.houhu.coldStorageLarge ? 2
      : i < aquacultureCount + processors ? 3
      : i < aquacultureCount + processors + vulnerable ? 4
      : 5;
  });
  let i = 0;
  tq.forEach((d, di) => {
    for (let n = 0; n < (perDistrict[di] as number); n++, i++) {
      const kd = kind[i] as number;
      let classes: CustomerClass[];
      let name: string;
      if (kd === 1) [classes, name] = [['aquaculture'], personName(people)];
      else if (kd === 2) [classes, name] = [['commercial', 'cold_storage'], `${people.pick(LAKE_PLACES)}水产食品有限公司${s}`];
      else if (kd === 3) [classes, name] = [['commercial', 'cold_storage'], `${people.pick(LAKE_PLACES)}${personName(people).slice(0, 1)}记水产冷库`];
      else if (kd === 4) [classes, name] = [['resident', 'vulnerable'], personName(people)];
      else if (kd === 5) [classes, name] = [['commercial'], shopName(people, LAKE_PLACES)];
      else [classes, name] = [['resident'], personName(people)];
      county.customers.push({ accountNo: nextAccount(), districtCode: d.code, classes, name, phone: mobile(people) });
    }
  });

  // 22 staff: 7 台区经理 (managers), 5 assistants, 3 village supervisors, a 6-person repair crew, the head.
  const staffRng = new Rng(mixSeed(seed, k, 3));
  const gridId = (g: number): string => `${p}-G${pad(g, 2)}`;
  const person = (n: number, assignments: StaffAssignment[]): string => {
    const id = `${p}-S${pad(n, 2)}`;
    county.staff.push({ id, name: personName(staffRng), phone: mobile(staffRng), assignments });
    return id;
  };
  for (let g = 1; g <= 7; g++) county.rosters.push(roster(person(g, [{ gridId: gridId(g), role: 'manager' }]), WORKDAYS, '08:30', '17:30'));
  const assistantGrids = [[1, 2], [3, 4], [5], [6], [7]];
  assistantGrids.forEach((grids, a) => {
    const id = person(8 + a, grids.map((g) => ({ gridId: gridId(g), role: 'assistant' })));
    county.rosters.push(roster(id, WEEKEND, '08:30', '17:30'), roster(id, WORKDAYS, '17:30', '22:00'));
    // Summer nights the aerators run; one assistant keeps a Friday/Saturday night watch.
    if (a === 0) county.rosters.push(roster(id, [5, 6], '22:00', '06:00'));
  });
  [[1, 2, 5], [3, 6], [4, 7]].forEach((grids, v) => person(13 + v, grids.map((g) => ({ gridId: gridId(g), role: 'supervisor' }))));
  addCrewAndHead(county, staffRng, p, 16, p);
}

const COMMUNITIES = ['城东社区', '城西社区', '城南社区', '城北社区', '东门社区', '西门社区', '桂花社区', '隽水社区'];
const IMPORTANT = ['崇阳县人民医院', '崇阳县中医院', '天城镇中心小学', '崇阳县第一中学', '崇阳县第二中学', '崇阳县自来水厂'];

/** 天城镇 of 崇阳 county: urban, 8 communities (area grids) of 2 grids each, 16 grid managers. */
function buildTiancheng(county: SampleCounty, seed: number, k: number, customerCount: number, nextAccount: () => string): void {
  const { prefix: p, suffix: s } = copyOf('TC', k);
  const geo = new Rng(mixSeed(seed, k, 11));
  const { ox, oy } = offset(k);
  const lattice = makeLattice(geo, { x0: 114.0 + ox, y0: 29.53 - oy, cols: 8, rows: 2, dx: 0.01, dy: 0.01 });
  const township = `421223${pad(100 + k, 3)}`;

  county.grids.push({ id: p, name: `天城镇${s}`, kind: 'area', parentId: null, areaType: 'urban', communityCode: `${township}000`, polygon: null, districts: [] });
  ['城关', '沿河', '秀水', '隽水'].forEach((name, f) => {
    county.feeders.push({ code: `${p}-10kV-${pad(f + 1, 2)}`, name: `10kV${name}线${s}`, areaGridId: p });
  });

  const tq: DistrictRecord[] = [];
  COMMUNITIES.forEach((cname, c) => {
    const col = 2 * (c % 4);
    const row = Math.floor(c / 4);
    const communityId = `${p}-C${pad(c + 1, 2)}`;
    const code = `${township}${pad(c + 1, 3)}`;
    county.grids.push({
      id: communityId,
      name: `${cname}${s}`,
      kind: 'area',
      parentId: p,
      areaType: 'urban',
      communityCode: code,
      polygon: { type: 'Polygon', coordinates: [blockRing(lattice, col, row, col + 2, row + 1)] },
      districts: [],
    });
    county.communities.push({ code, name: `${cname}${s}`, gridId: communityId });
    for (let half = 0; half < 2; half++) {
      const g = 2 * c + half + 1;
      const id = `${p}-G${pad(g, 2)}`;
      const polygon = cellPolygon(lattice, col + half, row);
      county.grids.push({ id, name: `${cname}${half + 1}号网格${s}`, kind: 'district', parentId: communityId, areaType: 'urban', communityCode: null, polygon, districts: [] });
      for (let n = 0; n < 4; n++) {
        const at = pointInCell(geo, lattice, col + half, row, polygon);
        tq.push({
          code: `${p}-TQ-${pad(tq.length + 1, 3)}`,
          name: `${geo.pick(TOWN_PLACES)}${n + 1}号台区${s}`,
          feederCode: `${p}-10kV-${pad((c % 4) + 1, 2)}`,
          gridId: id,
          ...at,
        });
      }
    }
  });
  county.districts.push(...tq);

  const people = new Rng(mixSeed(seed, k, 12));
  const perDistrict = apportion(customerCount, tq.map(() => people.range(0.7, 1.3)));
  const important = Math.min(IMPORTANT.length, customerCount);
  const vulnerable = Math.round(customerCount * 0.03);
  const commercial = Math.round(customerCount * 0.12);
  const special = people.sample(customerCount, Math.min(customerCount, important + vulnerable + commercial));
  const kind = new Uint8Array(customerCount); // 0 resident, 1 important, 2 vulnerable, 3 commercial
  special.forEach((idx, i) => {
    kind[idx] = i < important ? 1 : i < important + vulnerable ? 2 : 3;
  });
  let importantNo = 0;
  let i = 0;
  tq.forEach((d, di) => {
    for (let n = 0; n < (perDistrict[di] as number); n++, i++) {
      const kd = kind[i] as number;
      let classes: CustomerClass[];
      let name: string;
      if (kd === 1) [classes, name] = [['important'], `${IMPORTANT[importantNo++]}${s}`];
      else if (kd === 2) [classes, name] = [['resident', 'vulnerable'], personName(people)];
      else if (kd === 3) [classes, name] = [['commercial'], shopName(people, TOWN_PLACES)];
      else [classes, name] = [['resident'], personName(people)];
      county.customers.push({ accountNo: nextAccount(), districtCode: d.code, classes, name, phone: mobile(people) });
    }
  });

  // 16 grid managers and 16 assistants (one each per grid), 8 community directors as
  // supervisors; the two managers of a community also serve its community grid.
  const staffRng = new Rng(mixSeed(seed, k, 13));
  const staffId = (n: number): string => `${p}-S${pad(n, 2)}`;
  const assignments = new Map<string, StaffAssignment[]>();
  const assign = (n: number, gridId: string, role: StaffAssignment['role']): void => {
    const list = assignments.get(staffId(n)) ?? [];
    list.push({ gridId, role });
    assignments.set(staffId(n), list);
  };
  for (let c = 0; c < 8; c++) {
    const communityId = `${p}-C${pad(c + 1, 2)}`;
    for (let half = 0; half < 2; half++) {
      const g = 2 * c + half + 1;
      const gid = `${p}-G${pad(g, 2)}`;
      assign(g, gid, 'manager');
      assign(16 + g, gid, 'assistant');
      assign(33 + c, gid, 'supervisor');
    }
    assign(2 * c + 1, communityId, 'manager');
    assign(2 * c + 2, communityId, 'assistant');
    assign(33 + c, communityId, 'supervisor');
  }
  for (let n = 1; n <= 40; n++) {
    const id = staffId(n);
    county.staff.push({ id, name: personName(staffRng), phone: mobile(staffRng), assignments: assignments.get(id) ?? [] });
    if (n <= 16) county.rosters.push(roster(id, WORKDAYS, '08:30', '17:30'));
    else if (n <= 32) county.rosters.push(roster(id, WEEKEND, '08:30', '17:30'), roster(id, WORKDAYS, '17:30', '22:00'));
  }
  addCrewAndHead(county, staffRng, p, 41, p);
}
