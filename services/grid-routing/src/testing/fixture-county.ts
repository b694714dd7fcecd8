import { gridsToGeoJson, toCsv, type GridGeometry, type SampleCounty } from '@griddispatch/grid';
import type { ImportFiles } from '../use-cases/import-data.ts';

// A small hand-drawn county for the tests, small enough to reason about every decision:
//
//   lon 114.00 ─ 114.01 ─ 114.02          lon 114.10 ─ 114.12
//   ┌────────────┬────────────┐ lat 30.02  ┌─────────────────┐
//   │ HH-G1      │ HH-G2      │            │ TC-G1           │
//   │ 台区 TQ-001 │ 台区 TQ-002 │            │ 台区 TQ-003      │
//   └────────────┴────────────┘ lat 30.00  └─────────────────┘
//   area HH-A (rural, 后湖), crew + head   area TC-A (urban, 天城)
//
// 2026-11-23 is a Monday; times are Asia/Shanghai (UTC+8).

export const AREA_HH = 'HH-A';
export const AREA_TC = 'TC-A';
export const HH_COMMUNITY = '421223100001';
/** A village served by HH-A through communities.csv (not a grid's own code). */
export const HH_VILLAGE = '421223100205';

function box(minLon: number, minLat: number, maxLon: number, maxLat: number): GridGeometry {
  return {
    type: 'Polygon',
    coordinates: [
      [
        [minLon, minLat],
        [maxLon, minLat],
        [maxLon, maxLat],
        [minLon, maxLat],
        [minLon, minLat],
      ],
    ],
  };
}

export function fixtureCounty(): SampleCounty {
  return {
    grids: [
      {
        id: AREA_HH,
        name: '后湖社区',
        kind: 'area',
        parentId: null,
        areaType: 'rural',
        communityCode: HH_COMMUNITY,
        polygon: box(114.0, 30.0, 114.02, 30.02),
        districts: [],
      },
      {
        id: 'HH-G1',
        name: '后湖1号网格',
        kind: 'district',
        parentId: AREA_HH,
        areaType: 'rural',
        communityCode: null,
        polygon: box(114.0, 30.0, 114.01, 30.02),
        districts: [],
      },
      {
        id: 'HH-G2',
        name: '后湖2号网格',
        kind: 'district',
        parentId: AREA_HH,
        areaType: 'rural',
        communityCode: null,
        polygon: box(114.01, 30.0, 114.02, 30.02),
        districts: [],
      },
      {
        id: AREA_TC,
        name: '天城社区',
        kind: 'area',
        parentId: null,
        areaType: 'urban',
        communityCode: '421223101001',
        polygon: box(114.1, 30.0, 114.12, 30.02),
        districts: [],
      },
      {
        id: 'TC-G1',
        name: '天城1号网格',
        kind: 'district',
        parentId: AREA_TC,
        areaType: 'urban',
        communityCode: null,
        polygon: box(114.1, 30.0, 114.12, 30.02),
        districts: [],
      },
    ],
    feeders: [
      { code: 'HH-10kV-01', name: '10kV湖滨线', areaGridId: AREA_HH },
      { code: 'TC-10kV-01', name: '10kV天城线', areaGridId: AREA_TC },
    ],
    districts: [
      { code: 'TQ-001', name: '湖滨1号台区', feederCode: 'HH-10kV-01', gridId: 'HH-G1' },
      { code: 'TQ-002', name: '湖滨2号台区', feederCode: 'HH-10kV-01', gridId: 'HH-G2' },
      { code: 'TQ-003', name: '天城1号台区', feederCode: 'TC-10kV-01', gridId: 'TC-G1' },
      { code: 'TQ-004', name: '天城2号台区', feederCode: 'TC-10kV-01', gridId: 'TC-G1' },
    ],
    communities: [{ code: HH_VILLAGE, name: '湖心村', gridId: AREA_HH }],
    customers: [
      { accountNo: '3000000001', districtCode: 'TQ-001', classes: ['resident'], name: '张三', phone: '13800000001' },
      { accountNo: '3000000002', districtCode: 'TQ-002', classes: ['aquaculture'], name: '李四', phone: '13800000002' },
      { accountNo: '3000000003', districtCode: 'TQ-003', classes: ['resident', 'vulnerable'], name: '王五', phone: '13800000003' },
    ],
    staff: [
      { id: 'S-M1', name: '张经理', phone: '13900000001', assignments: [{ gridId: 'HH-G1', role: 'manager' }] },
      { id: 'S-A1', name: '李协管', phone: '13900000002', assignments: [{ gridId: 'HH-G1', role: 'assistant' }] },
      { id: 'S-V1', name: '王主任', phone: '13900000003', assignments: [{ gridId: 'HH-G1', role: 'supervisor' }] },
      { id: 'S-M2', name: '赵经理', phone: '13900000004', assignments: [{ gridId: 'HH-G2', role: 'manager' }] },
      { id: 'S-C1', name: '夜班抢修', phone: '13900000005', assignments: [{ gridId: AREA_HH, role: 'repair_crew' }] },
      { id: 'S-C2', name: '白班抢修', phone: '13900000006', assignments: [{ gridId: AREA_HH, role: 'repair_crew' }] },
      { id: 'S-H1', name: '站长', phone: '13900000007', assignments: [{ gridId: AREA_HH, role: 'station_head' }] },
      { id: 'S-M3', name: '孙经理', phone: '13900000008', assignments: [{ gridId: 'TC-G1', role: 'manager' }] },
      { id: 'S-C3', name: '天城抢修', phone: '13900000009', assignments: [{ gridId: AREA_TC, role: 'repair_crew' }] },
    ],
    rosters: [
      { staffId: 'S-M1', days: [1, 2, 3, 4, 5], start: '08:30', end: '17:30', validFrom: null, validTo: null },
      { staffId: 'S-A1', days: [1, 2, 3, 4, 5, 6, 7], start: '17:30', end: '22:00', validFrom: null, validTo: null },
      { staffId: 'S-C1', days: [1, 2, 3, 4, 5, 6, 7], start: '22:00', end: '08:30', validFrom: null, validTo: null },
      { staffId: 'S-C2', days: [1, 2, 3, 4, 5], start: '08:30', end: '17:30', validFrom: null, validTo: null },
      { staffId: 'S-H1', days: [1, 2, 3, 4, 5], start: '08:30', end: '17:30', validFrom: null, validTo: null },
    ],
  };
}

/** The county as import file texts (what a station would hand to `griddispatch import`). */
export function fixtureFiles(county: SampleCounty = fixtureCounty()): Required<{ [K in keyof ImportFiles]: { text: string } }> {
  return {
    grids: { text: gridsToGeoJson(county.grids) },
    feeders: { text: toCsv('feeders', county.feeders) },
    districts: { text: toCsv('districts', county.districts) },
    communities: { text: toCsv('communities', county.communities) },
    customers: { text: toCsv('customers', county.customers) },
    staff: { text: toCsv('staff', county.staff) },
    rosters: { text: toCsv('rosters', county.rosters) },
  };
}
