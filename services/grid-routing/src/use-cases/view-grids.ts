import type { Pool } from 'pg';
import type { AreaType, GridKind, GridView, StaffRole } from '@griddispatch/contracts';

interface GridRow {
  id: string;
  name: string;
  kind: GridKind;
  parent_id: string | null;
  area_type: AreaType;
  community_code: string | null;
  polygon: unknown;
  districts: string[];
  staff: { id: string; name: string; role: StaffRole }[];
}

// One query: each grid with its 台区 codes and staff aggregated, so a list of thousands of grids
// is not thousands of round trips.
const SELECT_GRIDS = `
  SELECT g.id, g.name, g.kind, g.parent_id, g.area_type, g.community_code, g.polygon,
         coalesce((SELECT array_agg(d.code ORDER BY d.code) FROM routing.districts d WHERE d.grid_id = g.id), '{}') AS districts,
         coalesce((SELECT json_agg(json_build_object('id', s.id, 'name', s.name, 'role', gs.role) ORDER BY array_position(ARRAY['manager', 'assistant', 'supervisor', 'repair_crew', 'station_head'], gs.role), s.id)
                     FROM routing.grid_staff gs JOIN routing.staff s ON s.id = gs.staff_id WHERE gs.grid_id = g.id), '[]') AS staff
    FROM routing.grids g`;

function toView(row: GridRow): GridView {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    parentId: row.parent_id,
    areaType: row.area_type,
    communityCode: row.community_code,
    districts: row.districts,
    polygon: row.polygon ?? null,
    staff: row.staff,
  };
}

export async function listGrids(pool: Pool, filter: { kind?: GridKind | undefined; parentId?: string | undefined }): Promise<GridView[]> {
  const { rows } = await pool.query<GridRow>(
    `${SELECT_GRIDS} WHERE ($1::text IS NULL OR g.kind = $1) AND ($2::text IS NULL OR g.parent_id = $2) ORDER BY g.id`,
    [filter.kind ?? null, filter.parentId ?? null],
  );
  return rows.map(toView);
}

export async function getGrid(pool: Pool, id: string): Promise<GridView | null> {
  const { rows } = await pool.query<GridRow>(`${SELECT_GRIDS} WHERE g.id = $1`, [id]);
  return rows[0] ? toView(rows[0]) : null;
}
