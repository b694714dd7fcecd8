import { asc } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Pool, PoolClient } from 'pg';
import {
  createGridIndex,
  type CommunityRecord,
  type DistrictRecord,
  type GridIndex,
  type GridRecord,
  type RosterEntry,
  type Weekday,
} from '@griddispatch/grid';
import { listen, type Listener } from '@griddispatch/db';
import type { Logger } from '@griddispatch/observability';
import type { Directory, GridInfo, GridMember, StaffInfo } from './domain/directory.ts';
import * as t from './schema.ts';

// The in-memory routing data: the spatial/code index and the people directory, loaded from the
// routing schema and replaced as a whole when an import bumps routing.data_version. Customers
// stay in PostgreSQL (a primary-key lookup per request) so a million accounts cost no memory.

export const DATA_VERSION_CHANNEL = 'routing_data_version';

export interface RoutingData {
  version: number;
  index: GridIndex;
  directory: Directory;
  /** 台区 by code: its feeder (null when none is known) and grid — incidents nest per feeder. */
  districts: ReadonlyMap<string, { feederCode: string | null; gridId: string }>;
  /** Feeders by code: the area grid that answers for the line, and its 台区 (sorted). */
  feeders: ReadonlyMap<string, { areaGridId: string | null; districtCodes: readonly string[] }>;
}

type Queryable = Pick<Pool | PoolClient, 'query'>;

export async function readDataVersion(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ version: string }>('SELECT version FROM routing.data_version');
  return Number(rows[0]?.version ?? 0);
}

export async function loadRoutingData(pool: Pool, nearestWithinMeters: number): Promise<RoutingData> {
  const db = drizzle(pool);
  const version = await readDataVersion(pool);
  const [gridRows, districtRows, communityRows, staffRows, memberRows, rosterRows, feederRows] = await Promise.all([
    db.select().from(t.grids).orderBy(asc(t.grids.id)),
    db.select().from(t.districts).orderBy(asc(t.districts.code)),
    db.select().from(t.communities).orderBy(asc(t.communities.code)),
    db.select().from(t.staff),
    db.select().from(t.gridStaff),
    db.select().from(t.rosters).orderBy(asc(t.rosters.id)),
    db.select().from(t.feeders),
  ]);

  const districtsByGrid = new Map<string, string[]>();
  const districtRecords: DistrictRecord[] = [];
  const districts = new Map<string, { feederCode: string | null; gridId: string }>();
  const feeders = new Map<string, { areaGridId: string | null; districtCodes: string[] }>(
    feederRows.map((f) => [f.code, { areaGridId: f.areaGridId, districtCodes: [] }]),
  );
  for (const d of districtRows) {
    districts.set(d.code, { feederCode: d.feederCode || null, gridId: d.gridId });
    if (d.feederCode) {
      const feeder = feeders.get(d.feederCode) ?? { areaGridId: null, districtCodes: [] };
      feeder.districtCodes.push(d.code);
      feeders.set(d.feederCode, feeder);
    }
    districtRecords.push({ code: d.code, name: d.name, feederCode: d.feederCode ?? '', gridId: d.gridId });
    const list = districtsByGrid.get(d.gridId) ?? [];
    list.push(d.code);
    districtsByGrid.set(d.gridId, list);
  }
  const gridRecords: GridRecord[] = gridRows.map((g) => ({
    id: g.id,
    name: g.name,
    kind: g.kind,
    parentId: g.parentId,
    areaType: g.areaType,
    communityCode: g.communityCode,
    polygon: g.polygon,
    districts: districtsByGrid.get(g.id) ?? [],
  }));
  const communityRecords: CommunityRecord[] = communityRows.map((c) => ({ code: c.code, name: c.name, gridId: c.gridId }));
  const index = createGridIndex({ grids: gridRecords, districts: districtRecords, communities: communityRecords, nearestWithinMeters });

  const gridInfo = new Map<string, GridInfo>(
    gridRows.map((g) => [g.id, { id: g.id, name: g.name, kind: g.kind, parentId: g.parentId, areaType: g.areaType, communityCode: g.communityCode }]),
  );
  const staffInfo = new Map<string, StaffInfo>(staffRows.map((s) => [s.id, { id: s.id, name: s.name, phone: s.phone, wecomUserId: s.wecomUserId }]));
  const memberMap = new Map<string, GridMember[]>();
  for (const m of memberRows) {
    const list = memberMap.get(m.gridId) ?? [];
    list.push({ staffId: m.staffId, role: m.role });
    memberMap.set(m.gridId, list);
  }
  const rosterMap = new Map<string, RosterEntry[]>();
  for (const r of rosterRows) {
    const list = rosterMap.get(r.staffId) ?? [];
    list.push({ staffId: r.staffId, days: r.days as Weekday[], start: r.startTime, end: r.endTime, validFrom: r.validFrom, validTo: r.validTo });
    rosterMap.set(r.staffId, list);
  }

  return {
    version,
    index,
    directory: { grids: gridInfo, staff: staffInfo, members: memberMap, rosters: rosterMap },
    districts,
    feeders,
  };
}

/**
 * Holds the current RoutingData. `current(db)` compares the stored data version (one tiny query,
 * inside the caller's transaction) and reloads when an import committed a newer one, so a
 * decision never uses data older than the last committed import. `listen()` additionally
 * reloads eagerly on NOTIFY so the first request after an import does not pay for the reload.
 */
export class RoutingDataCache {
  private data: RoutingData | undefined;
  private loading: Promise<RoutingData> | undefined;
  private listener: Listener | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly nearestWithinMeters: number,
    private readonly logger: Logger,
  ) {}

  /** Version of the data in memory; undefined before the first load. */
  loadedVersion(): number | undefined {
    return this.data?.version;
  }

  async current(db: Queryable = this.pool): Promise<RoutingData> {
    const version = await readDataVersion(db);
    // A load already in flight may predate the import that bumped the version: load again.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.data && this.data.version >= version) return this.data;
      await this.reload();
    }
    if (this.data && this.data.version >= version) return this.data;
    throw new Error(`routing data version ${version} is committed but could not be loaded`);
  }

  /** Loads from the pool (committed data), one load at a time. */
  reload(): Promise<RoutingData> {
    if (!this.loading) {
      const started = Date.now();
      this.loading = loadRoutingData(this.pool, this.nearestWithinMeters)
        .then((data) => {
          if (!this.data || data.version >= this.data.version) this.data = data;
          this.logger.info({ version: data.version, grids: data.directory.grids.size, ms: Date.now() - started }, 'routing data loaded');
          return data;
        })
        .finally(() => {
          this.loading = undefined;
        });
    }
    return this.loading;
  }

  /** Starts the eager reload on NOTIFY (a connection of its own that reconnects); resolves once the first LISTEN attempt is over. */
  async listen(): Promise<void> {
    this.listener ??= listen(this.pool, DATA_VERSION_CHANNEL, () => this.inBackground(this.reload()), {
      logger: this.logger,
      label: 'routing data',
      meanwhile: 'requests still check the version',
      // An import committed while not listening is found by the next request anyway; look now
      // so that request does not pay for the reload.
      onListening: (again) => {
        if (again) this.inBackground(this.current());
      },
    });
    await this.listener.ready;
  }

  async close(): Promise<void> {
    const listener = this.listener;
    this.listener = undefined;
    await listener?.close();
  }

  private inBackground(loading: Promise<RoutingData>): void {
    loading.catch((err: unknown) => this.logger.error({ err }, 'routing data reload failed; next request retries'));
  }
}
