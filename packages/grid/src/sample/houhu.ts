import { compileGeometry } from '../geometry.ts';
import type { CustomerClass, DistrictRecord, StaffAssignment } from '../types.ts';
import { SAMPLE_FACTS, WEEKEND, WORKDAYS, addCrewAndHead, cellPolygon, copyOf, offset, pad, pointInCell, roster, type SampleCounty } from './common.ts';
import { blockRing, cellPoint, holeRing, makeLattice } from './lattice.ts';
import { LAKE_PLACES, mobile, personName, shopName } from './names.ts';
import { Rng, apportion, mixSeed } from './prng.ts';

/** 后湖 supply station: rural lake area, 7 大台区 grids around the lake, 157 台区 on 4 feeders. */
export function buildHouhu(county: SampleCounty, seed: number, k: number, customerCount: number, aquacultureCount: number, nextAccount: () => string): void {
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
  const cells: [number, number][] = [
    [0, 0],
    [1, 0],
    [2, 0],
    [3, 0],
    [0, 1],
    [2, 1],
    [3, 1],
  ];
  const districtsPerGrid = [23, 22, 22, 22, 23, 22, 23];
  const tq: DistrictRecord[] = [];
  cells.forEach(([c, r], g) => {
    // Grid 3 has a fish-pond reserve cut out of it (a hole), which the area grid covers.
    const holes = g === 2 ? [holeRing(geo, ...cellPoint(lattice, c, r, 0.5, 0.5), 0.12 * lattice.dx, 0.12 * lattice.dy)] : [];
    const polygon = cellPolygon(lattice, c, r, holes);
    const id = `${p}-G${pad(g + 1, 2)}`;
    county.grids.push({ id, name: `后湖${g + 1}号网格${s}`, kind: 'district', parentId: p, areaType: 'rural', communityCode: null, polygon, districts: [] });
    const parts = compileGeometry(polygon);
    for (let n = 0; n < (districtsPerGrid[g] as number); n++) {
      const code = `${p}-TQ-${pad(tq.length + 1, 3)}`;
      const at = pointInCell(geo, lattice, c, r, parts);
      tq.push({ code, name: `${geo.pick(LAKE_PLACES)}${n + 1}号台区${s}`, feederCode: `${p}-10kV-${pad(c + 1, 2)}`, gridId: id, ...at });
    }
  });
  county.districts.push(...tq);

  // Customers: 1,811 aquaculture (aerators: the 30-minute circle), 2 large and 6 small
  // aquatic-product processors with cold storage, some vulnerable and commercial accounts.
  const people = new Rng(mixSeed(seed, k, 2));
  const perDistrict = apportion(
    customerCount,
    tq.map(() => people.range(0.6, 1.4)),
  );
  const processors = SAMPLE_FACTS.houhu.coldStorageLarge + SAMPLE_FACTS.houhu.coldStorageSmall;
  const vulnerable = Math.round(customerCount * 0.025);
  const commercial = Math.round(customerCount * 0.05);
  if (aquacultureCount + processors > customerCount) {
    throw new RangeError(
      `customerScale too small for scale: ${customerCount} accounts cannot hold ${aquacultureCount} aquaculture farms and ${processors} processors`,
    );
  }
  const special = people.sample(customerCount, Math.min(customerCount, aquacultureCount + processors + vulnerable + commercial));
  const kind = new Uint8Array(customerCount); // 0 resident, 1 aquaculture, 2 large processor, 3 small processor, 4 vulnerable, 5 commercial
  special.forEach((idx, i) => {
    kind[idx] =
      i < aquacultureCount
        ? 1
        : i < aquacultureCount + SAMPLE_FACTS.houhu.coldStorageLarge
          ? 2
          : i < aquacultureCount + processors
            ? 3
            : i < aquacultureCount + processors + vulnerable
              ? 4
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
    const id = person(
      8 + a,
      grids.map((g) => ({ gridId: gridId(g), role: 'assistant' })),
    );
    county.rosters.push(roster(id, WEEKEND, '08:30', '17:30'), roster(id, WORKDAYS, '17:30', '22:00'));
    // Summer nights the aerators run; one assistant keeps a Friday/Saturday night watch.
    if (a === 0) county.rosters.push(roster(id, [5, 6], '22:00', '06:00'));
  });
  [
    [1, 2, 5],
    [3, 6],
    [4, 7],
  ].forEach((grids, v) =>
    person(
      13 + v,
      grids.map((g) => ({ gridId: gridId(g), role: 'supervisor' })),
    ),
  );
  addCrewAndHead(county, staffRng, p, 16, p);
}
