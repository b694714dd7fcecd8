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

/** Keeps (or refreshes, on a re-dispatch) the copy of a work order's dispatch. */
export async function rememberWorkOrder(client: PoolClient, data: DispatchAssignedV1, robotUrl: string | null, eventId: string, now: Date): Promise<void> {
  await client.query(
    `INSERT INTO ${SCHEMA}.work_order_contacts
       (work_order_id, grid_id, grid_name, area_id, district_code, category, customer_classes, assignees, contacts, wecom_robot_url, source_event_id, updated_at, incident_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (work_order_id) DO UPDATE SET
       grid_id = EXCLUDED.grid_id, grid_name = EXCLUDED.grid_name, area_id = EXCLUDED.area_id,
       district_code = EXCLUDED.district_code, category = EXCLUDED.category, customer_classes = EXCLUDED.customer_classes,
       assignees = EXCLUDED.assignees, contacts = EXCLUDED.contacts, wecom_robot_url = EXCLUDED.wecom_robot_url,
       source_event_id = EXCLUDED.source_event_id, updated_at = EXCLUDED.updated_at, incident_id = EXCLUDED.incident_id`,
    [
      data.workOrderId,
      data.grid.id,
      data.grid.name,
      data.grid.areaId ?? null,
      data.districtCode,
      data.request.category,
      data.customerClasses,
      JSON.stringify(data.assignees),
      JSON.stringify(data.contacts),
      robotUrl,
      eventId,
      now,
      data.incidentId,
    ],
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
