import { describe, expect, it } from 'vitest';
import type { StaffRole } from '@griddispatch/contracts';
import { chooseAssignees, contactsFor, type Directory, type GridInfo } from './directory.ts';
import type { RosterEntry } from './roster.ts';

const TZ = 'Asia/Shanghai';
const local = (iso: string) => new Date(`${iso}+08:00`); // 2026-11-23 is a Monday

function directory(rosters: Record<string, RosterEntry[]> = {}): Directory {
  const grids: GridInfo[] = [
    { id: 'area-1', name: '后湖社区', kind: 'area', parentId: null, areaType: 'rural', communityCode: '421223100001' },
    { id: 'grid-3', name: '后湖3号网格', kind: 'district', parentId: 'area-1', areaType: 'rural', communityCode: null },
  ];
  const people: [string, string, string, StaffRole][] = [
    ['grid-3', 'm1', '张经理', 'manager'],
    ['grid-3', 'a1', '李协管', 'assistant'],
    ['grid-3', 's1', '王主任', 'supervisor'],
    ['area-1', 'c1', '抢修一', 'repair_crew'],
    ['area-1', 'c2', '抢修二', 'repair_crew'],
    ['area-1', 'h1', '站长', 'station_head'],
  ];
  const members = new Map<string, { staffId: string; role: StaffRole }[]>();
  for (const [grid, id, , role] of people) members.set(grid, [...(members.get(grid) ?? []), { staffId: id, role }]);
  return {
    grids: new Map(grids.map((g) => [g.id, g])),
    staff: new Map(people.map(([, id, name], i) => [id, { id, name, phone: `+861380000000${i}`, wecomUserId: null }])),
    members,
    rosters: new Map(Object.entries(rosters)),
  };
}

const day: RosterEntry = { kind: 'weekly', weekdays: [1, 2, 3, 4, 5], startTime: '08:30', endTime: '17:30' };
const evening: RosterEntry = { kind: 'weekly', weekdays: [1, 2, 3, 4, 5], startTime: '17:30', endTime: '22:00' };
const night: RosterEntry = { kind: 'weekly', weekdays: [1, 2, 3, 4, 5, 6, 7], startTime: '22:00', endTime: '08:30' };

describe('chooseAssignees', () => {
  const rosters = { m1: [day], a1: [evening], c1: [night], c2: [day], h1: [day] };

  it('takes the manager on duty; a consultation alerts nobody else', () => {
    const got = chooseAssignees(directory(rosters), { gridId: 'grid-3', category: 'consultation', at: local('2026-11-23T10:00:00'), timeZone: TZ });
    expect(got.map((a) => [a.staffId, a.role])).toEqual([['m1', 'manager']]);
  });

  it('falls back to the assistant when the manager is off duty', () => {
    const got = chooseAssignees(directory(rosters), { gridId: 'grid-3', category: 'billing', at: local('2026-11-23T19:00:00'), timeZone: TZ });
    expect(got.map((a) => a.staffId)).toEqual(['a1']);
  });

  it('falls back to the area repair crew on the night shift, across midnight', () => {
    const got = chooseAssignees(directory(rosters), { gridId: 'grid-3', category: 'billing', at: local('2026-11-24T02:00:00'), timeZone: TZ });
    expect(got.map((a) => [a.staffId, a.role])).toEqual([['c1', 'repair_crew']]);
  });

  it('a fault repair also alerts the crew on duty', () => {
    const got = chooseAssignees(directory(rosters), { gridId: 'grid-3', category: 'fault_repair', at: local('2026-11-23T10:00:00'), timeZone: TZ });
    expect(got.map((a) => a.staffId)).toEqual(['m1', 'c2']);
  });

  it('with nobody on duty names the manager so someone is chased', () => {
    const off: RosterEntry = { kind: 'window', startsAt: local('2020-01-01T00:00:00'), endsAt: local('2020-01-02T00:00:00') };
    const got = chooseAssignees(directory({ m1: [off], a1: [off], c1: [off], c2: [off], h1: [off] }), {
      gridId: 'grid-3',
      category: 'fault_repair',
      at: local('2026-11-23T10:00:00'),
      timeZone: TZ,
    });
    expect(got.map((a) => a.staffId)).toEqual(['m1']);
  });
});

describe('contactsFor', () => {
  it('lists everyone of the grid and its area with role and phone, nearest grid first', () => {
    const contacts = contactsFor(directory(), 'grid-3');
    expect(contacts.map((c) => `${c.staffId}:${c.role}`)).toEqual(['m1:manager', 'a1:assistant', 's1:supervisor', 'c1:repair_crew', 'c2:repair_crew', 'h1:station_head']);
    expect(contacts[0]).toEqual({ staffId: 'm1', name: '张经理', role: 'manager', phone: '+8613800000000' });
  });
});
