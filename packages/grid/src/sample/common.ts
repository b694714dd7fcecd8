import { locateInPolygon, type CompiledPolygon } from '../geometry.ts';
import type { CommunityRecord, CustomerRecord, DistrictRecord, FeederRecord, GridGeometry, GridRecord, RosterEntry, StaffRecord, Weekday } from '../types.ts';
import { blockRing, cellPoint, round6, type Lattice } from './lattice.ts';
import { mobile, personName } from './names.ts';
import type { Rng } from './prng.ts';

// Pieces shared by the two stations of the sample county.

export interface SampleCounty {
  grids: GridRecord[];
  districts: DistrictRecord[];
  feeders: FeederRecord[];
  communities: CommunityRecord[];
  customers: CustomerRecord[];
  staff: StaffRecord[];
  rosters: RosterEntry[];
}

/** The facts of docs/architecture.md#sample-data at scale 1 (copy 0 keeps its geometry and staff at any scale). */
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

export const pad = (n: number, width: number): string => String(n).padStart(width, '0');

export interface Copy {
  k: number;
  /** Code prefix: `HH` for copy 0, `HH2`, `HH3`… after. */
  prefix: string;
  /** Name suffix: '' for copy 0, `(2)`, `(3)`… after. */
  suffix: string;
}

export function copyOf(base: string, k: number): Copy {
  return { k, prefix: k === 0 ? base : `${base}${k + 1}`, suffix: k === 0 ? '' : `(${k + 1})` };
}

/** Copies sit on a 40-wide lattice of 0.2° × 0.1° blocks: 后湖 copies go north, 天城 copies south. */
export function offset(k: number): { ox: number; oy: number } {
  return { ox: (k % 40) * 0.2, oy: Math.floor(k / 40) * 0.1 };
}

export function cellPolygon(lattice: Lattice, c: number, r: number, holes: number[][][] = []): GridGeometry {
  return { type: 'Polygon', coordinates: [blockRing(lattice, c, r, c + 1, r + 1), ...holes] };
}

/** A transformer location strictly inside the grid's polygon (rejection sampling in the cell). */
export function pointInCell(rng: Rng, lattice: Lattice, c: number, r: number, parts: CompiledPolygon[]): { lon: number; lat: number } {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const [x, y] = cellPoint(lattice, c, r, rng.range(0.12, 0.88), rng.range(0.12, 0.88));
    const lon = round6(x);
    const lat = round6(y);
    if (parts.some((p) => locateInPolygon(p, lon, lat) === 'inside')) return { lon, lat };
  }
  throw new Error(`no point found inside cell ${c},${r}`);
}

export function roster(staffId: string, days: Weekday[], start: string, end: string): RosterEntry {
  return { staffId, days, start, end, validFrom: null, validTo: null };
}

export const WORKDAYS: Weekday[] = [1, 2, 3, 4, 5];
export const WEEKEND: Weekday[] = [6, 7];
/** Three repair-crew teams on 24 h shifts from 08:00, rotating through the week. */
const CREW_TEAMS: Weekday[][] = [
  [1, 4, 7],
  [2, 5],
  [3, 6],
];

export function addCrewAndHead(county: SampleCounty, rng: Rng, p: string, firstNo: number, areaGridId: string): void {
  for (let t = 0; t < 6; t++) {
    const id = `${p}-S${pad(firstNo + t, 2)}`;
    county.staff.push({ id, name: personName(rng), phone: mobile(rng), assignments: [{ gridId: areaGridId, role: 'repair_crew' }] });
    county.rosters.push(roster(id, CREW_TEAMS[Math.floor(t / 2)] as Weekday[], '08:00', '08:00'));
  }
  const head = `${p}-S${pad(firstNo + 6, 2)}`;
  county.staff.push({ id: head, name: personName(rng), phone: mobile(rng), assignments: [{ gridId: areaGridId, role: 'station_head' }] });
  county.rosters.push(roster(head, WORKDAYS, '08:30', '17:30'));
}
