import { compileGeometry } from '../geometry.ts';
import type { CustomerClass, DistrictRecord, StaffAssignment } from '../types.ts';
import { WEEKEND, WORKDAYS, addCrewAndHead, cellPolygon, copyOf, offset, pad, pointInCell, roster, type SampleCounty } from './common.ts';
import { blockRing, makeLattice } from './lattice.ts';
import { TOWN_PLACES, mobile, personName, shopName } from './names.ts';
import { Rng, apportion, mixSeed } from './prng.ts';

const COMMUNITIES = ['城东社区', '城西社区', '城南社区', '城北社区', '东门社区', '西门社区', '桂花社区', '隽水社区'];
const IMPORTANT = ['崇阳县人民医院', '崇阳县中医院', '天城镇中心小学', '崇阳县第一中学', '崇阳县第二中学', '崇阳县自来水厂'];

/** 天城镇 of 崇阳 county: urban, 8 communities (area grids) of 2 grids each, 16 grid managers. */
export function buildTiancheng(county: SampleCounty, seed: number, k: number, customerCount: number, nextAccount: () => string): void {
  const { prefix: p, suffix: s } = copyOf('TC', k);
  const geo = new Rng(mixSeed(seed, k, 11));
  const { ox, oy } = offset(k);
  const lattice = makeLattice(geo, { x0: 114.0 + ox, y0: 29.53 - oy, cols: 8, rows: 2, dx: 0.01, dy: 0.01 });
  const township = `421223${pad(100 + k, 3)}`;

  county.grids.push({
    id: p,
    name: `天城镇${s}`,
    kind: 'area',
    parentId: null,
    areaType: 'urban',
    communityCode: `${township}000`,
    polygon: null,
    districts: [],
  });
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
      county.grids.push({
        id,
        name: `${cname}${half + 1}号网格${s}`,
        kind: 'district',
        parentId: communityId,
        areaType: 'urban',
        communityCode: null,
        polygon,
        districts: [],
      });
      const parts = compileGeometry(polygon);
      for (let n = 0; n < 4; n++) {
        const at = pointInCell(geo, lattice, col + half, row, parts);
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
  const perDistrict = apportion(
    customerCount,
    tq.map(() => people.range(0.7, 1.3)),
  );
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
