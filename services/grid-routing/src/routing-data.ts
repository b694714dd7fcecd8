import type { Pool, PoolClient } from 'pg';
import { createGridIndex, type CommunityRecord, type DistrictRecord, type GridIndex, type GridRecord, type RosterEntry, type Weekday } from '@griddispatch/grid';
import type { AreaType, GridKind, StaffRole } from '@griddispatch/contracts';
import type { Logger } from '@griddispatch/observability';
import type { Directory, GridInfo, GridMember, StaffInfo } from './domain/directory.ts';

// The in-memory routing data: the spatial/code index and the people directory, loaded from the
// routing schema and replaced as a whole when an import bumps routing.data_version. Customers
// stay in PostgreSQL (a primary-key lookup per request) so a million accounts cost no memory.

export const DATA_VERSION_CHANNEL = 'routing_data_version';

export interface RoutingData {
  version: number;
  index: GridIndex;
  directory: Directory;
}

type Queryable = Pick<Pool | PoolClient, 'query'>;

export async function readDataVersion(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ version: string }>('SELECT version FROM routing.data_version');
  return Number(rows[0]?.version ?? 0);
}

export async function loadRoutingData(db: Queryable, nearestWithinMeters: number): Promise<RoutingData> {
  const version = await readDataVersion(db);
  const [grids, districts, communities, staff, members, rosters] = await Promise.all([
    db.query<{ id: string; name: string; kind: GridKind; parent_id: string | null; area_type: AreaType; community_code: string | null; polygon: GridRecord['polygon'] }>(
      'SELECT id, name, kind, parent_id, area_type, community_code, polygon FROM routing.grids ORDER BY id',
    ),
    db.query<{ code: string; name: string; feeder_code: string | null; grid_id: string }>(
      'SELECT code, name, feeder_code, grid_id FROM routing.districts ORDER BY code',
    ),
    db.query<{ code: string; name: string; grid_id: string }>('SELECT code, name, grid_id FROM routing.communities ORDER BY code'),
    db.query<{ id: string; name: string; phone: string | null; wecom_user_id: string | null }>('SELECT id, name, phone, wecom_user_id FROM routing.staff'),
    db.query<{ grid_id: string; staff_id: string; role: StaffRole }>('SELECT grid_id, staff_id, role FROM routing.grid_staff ORDER BY grid_id, role, staff_id'),
    db.query<{ staff_id: string; days: number[]; start_time: string; end_time: string; valid_from: string | null; valid_to: string | null }>(
      "SELECT staff_id, days, start_time, end_time, to_char(valid_from, 'YYYY-MM-DD') AS valid_from, to_char(valid_to, 'YYYY-MM-DD') AS valid_to FROM routing.rosters ORDER BY id",
    ),
  ]);

  const districtsByGrid = new Map<string, string[]>();
  const districtRecords: DistrictRecord[] = [];
  for (const d of districts.rows) {
    districtRecords.push({ code: d.code, name: d.name, feederCode: d.feeder_code ?? '', gridId: d.grid_id });
    const list = districtsByGrid.get(d.grid_id) ?? [];
    list.push(d.code);
    districtsByGrid.set(d.grid_id, list);
  }
  const gridRecords: GridRecord[] = grids.rows.map((g) => ({
    id: g.id,
    name: g.name,
    kind: g.kind,
    parentId: g.parent_id,
    areaType: g.area_type,
    communityCode: g.community_code,
    polygon: g.polygon,
    districts: districtsByGrid.get(g.id) ?? [],
  }));
  const communityRecords: CommunityRecord[] = communities.rows.map((c) => ({ code: c.code, name: c.name, gridId: c.grid_id }));
  const index = createGridIndex({ grids: gridRecords, districts: districtRecords, communities: communityRecords, nearestWithinMeters });

  const gridInfo = new Map<string, GridInfo>(
    grids.rows.map((g) => [g.id, { id: g.id, name: g.name, kind: g.kind, parentId: g.parent_id, areaType: g.area_type, communityCode: g.community_code }]),
  );
  const staffInfo = new Map<string, StaffInfo>(staff.rows.map((s) => [s.id, { id: s.id, name: s.name, phone: s.phone, wecomUserId: s.wecom_user_id }]));
  const memberMap = new Map<string, GridMember[]>();
  for (const m of members.rows) {
    const list = memberMap.get(m.grid_id) ?? [];
    list.push({ staffId: m.staff_id, role: m.role });
    memberMap.set(m.grid_id, list);
  }
  const rosterMap = new Map<string, RosterEntry[]>();
  for (const r of rosters.rows) {
    const entry: RosterEntry = {
      staffId: r.staff_id,
      days: r.days as Weekday[],
      start: r.start_time,
      end: r.end_time,
      validFrom: r.valid_from,
      validTo: r.valid_to,
    };
    const list = rosterMap.get(r.staff_id) ?? [];
    list.push(entry);
    rosterMap.set(r.staff_id, list);
  }
  return {
    version,
    index,
    directory: { grids: gridInfo, staff: staffInfo, members: memberMap, rosters: rosterMap },
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
  private listener: PoolClient | undefined;

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

  async listen(): Promise<void> {
    if (this.listener) return;
    const client = await this.pool.connect();
    client.on('notification', (msg) => {
      if (msg.channel !== DATA_VERSION_CHANNEL) return;
      this.reload().catch((err: unknown) => this.logger.error({ err }, 'routing data reload failed; next request retries'));
    });
    client.on('error', (err) => {
      this.logger.warn({ err }, 'routing data listener connection failed; requests still check the version');
      if (this.listener === client) {
        this.listener = undefined;
        client.release(err);
      }
    });
    await client.query(`LISTEN ${DATA_VERSION_CHANNEL}`);
    this.listener = client;
  }

  async close(): Promise<void> {
    const client = this.listener;
    this.listener = undefined;
    if (!client) return;
    try {
      await client.query(`UNLISTEN ${DATA_VERSION_CHANNEL}`);
    } finally {
      client.release();
    }
  }
}
