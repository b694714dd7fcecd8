import type { AreaType, CustomerClass, GridKind, StaffRole } from '@griddispatch/contracts';

export type { AreaType, CustomerClass, GridKind, StaffRole };

/** A GeoJSON position: `[lon, lat]` in WGS 84 degrees (a third altitude value is ignored). */
export type Position = number[];

/** GeoJSON Polygon: the first ring is the exterior, the others are holes. Rings are closed. */
export interface PolygonGeometry {
  type: 'Polygon';
  coordinates: Position[][];
}

/** GeoJSON MultiPolygon: one grid drawn as several separate parts (e.g. an island). */
export interface MultiPolygonGeometry {
  type: 'MultiPolygon';
  coordinates: Position[][][];
}

export type GridGeometry = PolygonGeometry | MultiPolygonGeometry;

/**
 * A service grid (网格). Stored by grid-routing in its own table; imported from `grids.geojson`
 * (one Feature per grid), `districts` from `districts.csv`.
 */
export interface GridRecord {
  /** Stable id chosen by the station, e.g. `HH-G03`. Shared-border ties go to the smallest id. */
  id: string;
  /** Display name, e.g. `后湖3号网格`. */
  name: string;
  /** `area` (社区/村), `feeder` (a 10 kV line) or `district` (one or more 台区). */
  kind: GridKind;
  /** The enclosing grid (a district grid's area grid); null for a top-level grid (a station). */
  parentId: string | null;
  /** Drives the SLA windows (urban 45 min / rural 90 min / remote 120 min arrival). */
  areaType: AreaType;
  /** 12-digit administrative code of the 社区/村 for area grids; null otherwise. */
  communityCode: string | null;
  /** Service boundary; null for grids reached only through codes (e.g. a town without a drawing). */
  polygon: GridGeometry | null;
  /** Codes of the 台区 that belong to this grid (derived from `DistrictRecord.gridId`). */
  districts: string[];
}

/** A 台区 (transformer district). Every customer account belongs to one. */
export interface DistrictRecord {
  /** e.g. `HH-TQ-017`. */
  code: string;
  name: string;
  /** The 10 kV feeder that supplies the transformer, e.g. `HH-10kV-03`. */
  feederCode: string;
  /** The grid responsible for this 台区. */
  gridId: string;
  /** Transformer location, when known (WGS 84). */
  lon?: number;
  lat?: number;
}

/** A 10 kV feeder (线路). Informational: 台区 reference it by code. */
export interface FeederRecord {
  code: string;
  /** e.g. `10kV湖滨线`. */
  name: string;
  /** The area grid (station) the feeder belongs to; null when not known. */
  areaGridId: string | null;
}

/** A 社区/村 with its administrative code, mapped to the area grid that serves it. */
export interface CommunityRecord {
  /** 12-digit administrative code, e.g. `421223100001`. */
  code: string;
  name: string;
  gridId: string;
}

/**
 * A customer account (户号). Personal fields are optional and must be masked in logs.
 * `classes` may be empty (an ordinary account with no special class).
 */
export interface CustomerRecord {
  /** The account number, e.g. a 10-digit `3012345678`. Unique. */
  accountNo: string;
  /** The 台区 that supplies the account. */
  districtCode: string;
  classes: CustomerClass[];
  name?: string;
  /** Mainland mobile number, 11 digits (`13812345678`), no country prefix. */
  phone?: string;
}

/** One role of a staff member in one grid (一格三员, repair crew, station head). */
export interface StaffAssignment {
  gridId: string;
  role: StaffRole;
}

/**
 * A person. Roles are per grid: a 台区经理 is `manager` of one grid and may be `assistant` of a
 * neighbour's. Repair crews and station heads are assigned to their area (station) grid.
 */
export interface StaffRecord {
  /** e.g. `HH-S07`. */
  id: string;
  name: string;
  /** Mainland mobile number, 11 digits; null when unknown. */
  phone: string | null;
  assignments: StaffAssignment[];
}

/** ISO weekday: 1 = Monday … 7 = Sunday. */
export type Weekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/**
 * A recurring duty shift of one staff member, in local wall-clock time of the configured time
 * zone (`GD_TIME_ZONE`). A shift starts on each of `days` at `start` and ends at `end`; when
 * `end <= start` it ends the next day (a night shift crossing midnight; `end == start` is a 24 h
 * shift). `validFrom`/`validTo` (inclusive, `YYYY-MM-DD`, the day the shift starts) bound it.
 */
export interface RosterEntry {
  staffId: string;
  days: Weekday[];
  /** `HH:MM`, 00:00–23:59. */
  start: string;
  /** `HH:MM`, 00:00–24:00. */
  end: string;
  validFrom: string | null;
  validTo: string | null;
}

/** What the caller knows about where a request comes from. All fields are optional. */
export interface GridQuery {
  /** The 台区 of the customer account, looked up by the caller in its customer registry. */
  accountDistrictCode?: string | null;
  /** A 台区 code given with the request. */
  districtCode?: string | null;
  lon?: number | null;
  lat?: number | null;
  /** Administrative code of the 社区/村. */
  communityCode?: string | null;
}

export type ResolvedBy = 'account' | 'district' | 'point' | 'nearest' | 'community';

export type Resolution =
  | {
      ok: true;
      gridId: string;
      resolvedBy: ResolvedBy;
      /** The 台区 that decided it (account/district paths); null otherwise. */
      districtCode: string | null;
      /** Only for `nearest`: distance from the point to the grid's boundary. */
      distanceMeters?: number;
    }
  | { ok: false; reason: string };
