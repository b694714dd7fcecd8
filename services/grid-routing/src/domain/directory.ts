import type { Assignee, Category, Contact, StaffRole } from '@griddispatch/contracts';
import { isOnDuty, type GridRecord, type RosterEntry } from '@griddispatch/grid';

// The reference data a routing decision needs besides the spatial index, held in memory and
// swapped as a whole when an import bumps the data version.

/** A grid as the directory knows it: its record without the geometry and the 台区 (the index holds those). */
export type GridInfo = Omit<GridRecord, 'polygon' | 'districts'>;

export interface StaffInfo {
  id: string;
  name: string;
  phone: string | null;
  wecomUserId: string | null;
}

export interface GridMember {
  staffId: string;
  role: StaffRole;
}

export interface Directory {
  grids: ReadonlyMap<string, GridInfo>;
  staff: ReadonlyMap<string, StaffInfo>;
  members: ReadonlyMap<string, readonly GridMember[]>;
  /** Shifts per staff id; a staff member without any is always available. */
  rosters: ReadonlyMap<string, readonly RosterEntry[]>;
}

export function onDuty(directory: Directory, staffId: string, at: Date, timeZone: string): boolean {
  const shifts = directory.rosters.get(staffId);
  if (!shifts || shifts.length === 0) return true;
  return shifts.some((shift) => isOnDuty(shift, at, timeZone));
}

/** The grid, its parent, … up to the root; stops on a cycle. */
export function ancestry(directory: Directory, gridId: string): GridInfo[] {
  const chain: GridInfo[] = [];
  const seen = new Set<string>();
  let id: string | null = gridId;
  while (id && !seen.has(id)) {
    seen.add(id);
    const grid = directory.grids.get(id);
    if (!grid) break;
    chain.push(grid);
    id = grid.parentId;
  }
  return chain;
}

/** The area grid a grid belongs to (itself for an area grid), if any. */
export function areaOf(directory: Directory, gridId: string): GridInfo | undefined {
  return ancestry(directory, gridId).find((g) => g.kind === 'area');
}

const ROLE_ORDER: readonly StaffRole[] = ['manager', 'assistant', 'supervisor', 'repair_crew', 'station_head'];
const byRole = (a: GridMember, b: GridMember) =>
  ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role) || (a.staffId < b.staffId ? -1 : a.staffId > b.staffId ? 1 : 0);

/**
 * Everyone reachable for the grid and the grids above it (its area, the station), nearest grid
 * first and 一格三员 order within a grid, one entry per person and role.
 */
export function contactsFor(directory: Directory, gridId: string): Contact[] {
  const out: Contact[] = [];
  const seen = new Set<string>();
  for (const grid of ancestry(directory, gridId)) {
    for (const m of [...(directory.members.get(grid.id) ?? [])].sort(byRole)) {
      const key = `${m.staffId}/${m.role}`;
      const person = directory.staff.get(m.staffId);
      if (!person || seen.has(key)) continue;
      seen.add(key);
      const contact: Contact = { staffId: person.id, name: person.name, role: m.role };
      if (person.phone) contact.phone = person.phone;
      if (person.wecomUserId) contact.wecomUserId = person.wecomUserId;
      out.push(contact);
    }
  }
  return out;
}

export interface AssignmentInput {
  gridId: string;
  category: Category;
  at: Date;
  timeZone: string;
}

/**
 * 一格三员 first: the grid's manager if on duty, else its assistant, else the area's repair crew
 * on duty. A fault repair also alerts the crew on duty. With nobody on duty the station head is
 * assigned, and failing that the grid's manager, so a request always names someone to chase.
 * A role is answered by the nearest grid in the chain (grid, its area, …) that has that role.
 */
export function chooseAssignees(directory: Directory, input: AssignmentInput): Assignee[] {
  const chain = ancestry(directory, input.gridId);
  const available = (a: Assignee) => onDuty(directory, a.staffId, input.at, input.timeZone);
  const holders = (grid: GridInfo, role: StaffRole): Assignee[] => {
    const found: Assignee[] = [];
    for (const m of directory.members.get(grid.id) ?? []) {
      const person = directory.staff.get(m.staffId);
      if (m.role === role && person && !found.some((a) => a.staffId === person.id)) found.push({ staffId: person.id, name: person.name, role });
    }
    return found;
  };
  /** Holders of the role in the nearest grid that has any. */
  const nearest = (role: StaffRole): Assignee[] => {
    for (const grid of chain) {
      const found = holders(grid, role);
      if (found.length > 0) return found;
    }
    return [];
  };
  /** Holders on duty in the nearest grid that has any on duty. */
  const nearestOnDuty = (role: StaffRole): Assignee[] => {
    for (const grid of chain) {
      const found = holders(grid, role).filter(available);
      if (found.length > 0) return found;
    }
    return [];
  };

  const crew = nearestOnDuty('repair_crew');
  const manager = nearest('manager').filter(available);
  const assistant = nearest('assistant').filter(available);
  let assignees: Assignee[];
  if (manager.length > 0) assignees = manager.slice(0, 1);
  else if (assistant.length > 0) assignees = assistant.slice(0, 1);
  else if (crew.length > 0) assignees = [...crew];
  else {
    const head = nearestOnDuty('station_head');
    assignees = (head.length > 0 ? head : nearest('manager')).slice(0, 1);
  }
  if (input.category === 'fault_repair') {
    for (const member of crew) if (!assignees.some((a) => a.staffId === member.staffId)) assignees.push(member);
  }
  return assignees;
}
