import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrate } from '@griddispatch/db';
import { freshDatabase, type FreshDatabase } from '@griddispatch/testkit';
import { MIGRATIONS, migrateRouting } from './schema-migrations.ts';
import { INCIDENT_COLUMNS, writeIncidentRows, type IncidentRow } from './use-cases/incident-row.ts';

// Upgrading a database that holds incidents from before 002_incidents: they are kept, given their
// 台区, feeder and first call as primary; the quiet ones are closed, so calls no longer join them.

let db: FreshDatabase;
let dir: string;
beforeAll(async () => {
  db = await freshDatabase('routing_upgrade');
  dir = await mkdtemp(join(tmpdir(), 'gd-routing-001-'));
  await copyFile(join(MIGRATIONS, '001_routing.sql'), join(dir, '001_routing.sql'));
});
afterAll(async () => {
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

it('keeps existing incidents: first call primary, quiet ones closed, one open per 台区; decisions get their role', async () => {
  await migrate(db.pool, { schema: 'routing', folder: dir });
  await db.pool.query(`
    INSERT INTO routing.grids (id, name, kind, area_type) VALUES ('G1', '网格', 'district', 'rural');
    INSERT INTO routing.districts (code, name, feeder_code, grid_id) VALUES ('TQ-1', '台区1', 'F-1', 'G1'), ('TQ-2', '台区2', 'F-1', 'G1');
    INSERT INTO routing.customers (account_no, district_code) VALUES ('A1', 'TQ-1'), ('A2', 'TQ-1');
    INSERT INTO routing.incidents (id, district_code, grid_id, opened_at, last_call_at, call_count, urgency) VALUES
      ('old', 'TQ-1', 'G1', now() - interval '3 hours', now() - interval '2 hours', 1, 'normal'),
      ('recent', 'TQ-1', 'G1', now() - interval '5 minutes', now() - interval '1 minute', 2, 'normal'),
      ('quiet-start', 'TQ-2', 'G1', now() - interval '2 minutes', now() - interval '2 minutes', 1, 'normal');
    INSERT INTO routing.routed_requests (request_id, event_id, status, grid_id, incident_id, request, routed_at) VALUES
      ('r0', 'e0', 'assigned', 'G1', 'old', '{}', now() - interval '3 hours'),
      ('r1', 'e1', 'assigned', 'G1', 'recent', '{}', now() - interval '5 minutes'),
      ('r2', 'e2', 'assigned', 'G1', 'recent', '{}', now() - interval '1 minute'),
      ('r3', 'e3', 'assigned', 'G1', NULL, '{}', now());
  `);
  await migrateRouting(db.pool);

  const { rows } = await db.pool.query(
    'SELECT id, status, kind, feeder_code, district_codes, primary_request_id, affected_customers, etr IS NOT NULL AS has_etr FROM routing.incidents ORDER BY id',
  );
  expect(rows).toEqual([
    {
      id: 'old',
      status: 'closed',
      kind: 'district',
      feeder_code: 'F-1',
      district_codes: ['TQ-1'],
      primary_request_id: 'r0',
      affected_customers: 2,
      has_etr: true,
    },
    {
      id: 'quiet-start',
      status: 'open',
      kind: 'district',
      feeder_code: 'F-1',
      district_codes: ['TQ-2'],
      primary_request_id: null,
      affected_customers: 0,
      has_etr: true,
    },
    {
      id: 'recent',
      status: 'dispatched',
      kind: 'district',
      feeder_code: 'F-1',
      district_codes: ['TQ-1'],
      primary_request_id: 'r1',
      affected_customers: 2,
      has_etr: true,
    },
  ]);
  const roles = await db.pool.query('SELECT request_id, role FROM routing.routed_requests ORDER BY request_id');
  expect(roles.rows).toEqual([
    { request_id: 'r0', role: 'primary' },
    { request_id: 'r1', role: 'primary' },
    { request_id: 'r2', role: 'merged' },
    { request_id: 'r3', role: null },
  ]);
  // The invariant holds from now on: a second open incident of TQ-1 is refused.
  await expect(
    db.pool.query(
      "INSERT INTO routing.incidents (id, district_code, grid_id, opened_at, last_call_at, urgency, evidence_at) VALUES ('dup', 'TQ-1', 'G1', now(), now(), 'normal', now())",
    ),
  ).rejects.toThrow(/incidents_open_district_idx/);
});

it('a call joining an incident rewrites its row without touching an index (a HOT update)', async () => {
  // The upgraded database of the test above holds 'recent', open, on TQ-1.
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<IncidentRow>(`SELECT ${INCIDENT_COLUMNS} FROM routing.incidents WHERE id = 'recent'`);
    const row = rows[0]!;
    for (let call = 1; call <= 20; call += 1) {
      const at = new Date(row.last_call_at.getTime() + call * 1_000);
      await writeIncidentRows(client, [{ ...row, call_count: row.call_count + call, last_call_at: at, updated_at: at }]);
    }
    const hot = await client.query<{ n: string }>("SELECT pg_stat_get_xact_tuples_hot_updated('routing.incidents'::regclass) AS n");
    // All but possibly the first: a page with no room left moves that one version to another page.
    expect(Number(hot.rows[0]!.n)).toBeGreaterThanOrEqual(19);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
});
