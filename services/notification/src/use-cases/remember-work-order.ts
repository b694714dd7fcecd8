import type { PoolClient } from 'pg';
import type { Assignee, Contact, DispatchAssignedV1 } from '@griddispatch/contracts';
import { SCHEMA } from '../schema.ts';
import type { WorkOrderContext } from '../templates/index.ts';

/** What later events of a work order need: its grid, people and robot. */
export interface WorkOrderRecord extends WorkOrderContext {
  areaId: string | null;
  assignees: Assignee[];
  contacts: Contact[];
  wecomRobotUrl: string | null;
  /** The trouble-call incident the work order joined (fault calls of one 台区), if any. */
  incidentId: string | null;
}

/** One dispatch's copy, as the batch's end writes it. */
export interface WorkOrderDispatch {
  data: DispatchAssignedV1;
  robotUrl: string | null;
  eventId: string;
  now: Date;
}

/**
 * Keeps (or refreshes, on a re-dispatch) the copies of the work orders' dispatches, in one
 * statement. Of two dispatches of one work order, the later in `dispatches` is kept, as if each
 * had been written in turn; the rows are written (and locked) in the order given.
 */
export async function rememberWorkOrders(client: PoolClient, dispatches: readonly WorkOrderDispatch[]): Promise<void> {
  const latest = new Map<string, WorkOrderDispatch>();
  for (const w of dispatches) latest.set(w.data.workOrderId, w);
  if (latest.size === 0) return;
  const rows = [...latest.values()].map(({ data, robotUrl, eventId, now }) => ({
    work_order_id: data.workOrderId,
    grid_id: data.grid.id,
    grid_name: data.grid.name,
    area_id: data.grid.areaId ?? null,
    district_code: data.districtCode,
    category: data.request.category,
    customer_classes: data.customerClasses,
    assignees: data.assignees,
    contacts: data.contacts,
    wecom_robot_url: robotUrl,
    source_event_id: eventId,
    updated_at: now.toISOString(),
    incident_id: data.incidentId,
  }));
  await client.query(
    `INSERT INTO ${SCHEMA}.work_order_contacts
       (work_order_id, grid_id, grid_name, area_id, district_code, category, customer_classes, assignees, contacts, wecom_robot_url, source_event_id, updated_at, incident_id)
     SELECT work_order_id, grid_id, grid_name, area_id, district_code, category, ARRAY(SELECT jsonb_array_elements_text(customer_classes)), assignees, contacts,
            wecom_robot_url, source_event_id, updated_at, incident_id
       FROM jsonb_to_recordset($1::jsonb) AS r(work_order_id text, grid_id text, grid_name text, area_id text, district_code text, category text,
            customer_classes jsonb, assignees jsonb, contacts jsonb, wecom_robot_url text, source_event_id text, updated_at timestamptz, incident_id text)
     ON CONFLICT (work_order_id) DO UPDATE SET
       grid_id = EXCLUDED.grid_id, grid_name = EXCLUDED.grid_name, area_id = EXCLUDED.area_id,
       district_code = EXCLUDED.district_code, category = EXCLUDED.category, customer_classes = EXCLUDED.customer_classes,
       assignees = EXCLUDED.assignees, contacts = EXCLUDED.contacts, wecom_robot_url = EXCLUDED.wecom_robot_url,
       source_event_id = EXCLUDED.source_event_id, updated_at = EXCLUDED.updated_at, incident_id = EXCLUDED.incident_id`,
    [JSON.stringify(rows)],
  );
}

/** The table's row (as `to_jsonb` gives it) as the record the consumers use. */
export interface WorkOrderContactsJson {
  work_order_id: string;
  grid_id: string;
  grid_name: string;
  area_id: string | null;
  district_code: string | null;
  category: WorkOrderContext['category'];
  customer_classes: string[];
  assignees: Assignee[];
  contacts: Contact[];
  wecom_robot_url: string | null;
  incident_id: string | null;
}

export function workOrderRecord(r: WorkOrderContactsJson): WorkOrderRecord {
  return {
    workOrderId: r.work_order_id,
    gridId: r.grid_id,
    gridName: r.grid_name,
    areaId: r.area_id,
    districtCode: r.district_code,
    category: r.category,
    customerClasses: r.customer_classes,
    assignees: r.assignees,
    contacts: r.contacts,
    wecomRobotUrl: r.wecom_robot_url,
    incidentId: r.incident_id,
  };
}

/** A reassignment changes who is responsible from now on (warnings go to the new assignee). */
export async function replaceAssignees(client: PoolClient, workOrderId: string, assignees: Assignee[], now: Date): Promise<void> {
  await client.query(`UPDATE ${SCHEMA}.work_order_contacts SET assignees = $2, updated_at = $3 WHERE work_order_id = $1`, [
    workOrderId,
    JSON.stringify(assignees),
    now,
  ]);
}
