import { describe, expect, it } from 'vitest';
import type { StaffRole } from '@griddispatch/contracts';
import { chooseAssignees, contactsFor, type Directory, type GridInfo } from './directory.ts';
import type { RosterEntry } from '@griddispatch/grid';

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

const shift = (staffId: string, days: RosterEntry['days'], start: string, end: string, validTo: string | null = null): RosterEntry => ({
  staffId,
  days,
  start,
  end,
  validFrom: null,
  validTo,
});

describe('chooseAssignees', () => {
  const weekdays: RosterEntry['days'] = [1, 2, 3, 4, 5];
  const rosters = {
    m1: [shift('m1', weekdays, '08:30', '17:30')],
    a1: [shift('a1', weekdays, '17:30', '22:00')],
    c1: [shift('c1', [1, 2, 3, 4, 5, 6, 7], '22:00', '08:30')],
    c2: [shift('c2', weekdays, '08:30', '17:30')],
    h1: [shift('h1', weekdays, '08:30', '17:30')],
  };

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
    // 08:29 is still the night shift; at 08:30 the day shift (manager) takes over.
    expect(chooseAssignees(directory(rosters), { gridId: 'grid-3', category: 'billing', at: local('2026-11-24T08:29:00'), timeZone: TZ })[0]?.staffId).toBe(
      'c1',
    );
    expect(chooseAssignees(directory(rosters), { gridId: 'grid-3', category: 'billing', at: local('2026-11-24T08:30:00'), timeZone: TZ })[0]?.staffId).toBe(
      'm1',
    );
  });

  it('treats staff without any roster as available', () => {
    const got = chooseAssignees(directory(), { gridId: 'grid-3', category: 'billing', at: local('2026-11-24T03:00:00'), timeZone: TZ });
    expect(got.map((a) => a.staffId)).toEqual(['m1']);
  });

  it('a fault repair also alerts the crew on duty', () => {
    const got = chooseAssignees(directory(rosters), { gridId: 'grid-3', category: 'fault_repair', at: local('2026-11-23T10:00:00'), timeZone: TZ });
    expect(got.map((a) => a.staffId)).toEqual(['m1', 'c2']);
  });

  it('with nobody on duty names the manager so someone is chased', () => {
    const expired = (id: string) => [shift(id, [1, 2, 3, 4, 5, 6, 7], '00:00', '00:00', '2020-01-01')];
    const got = chooseAssignees(directory({ m1: expired('m1'), a1: expired('a1'), c1: expired('c1'), c2: expired('c2'), h1: expired('h1') }), {
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
    expect(contacts.map((c) => `${c.staffId}:${c.role}`)).toEqual([
      'm1:manager',
      'a1:assistant',
      's1:supervisor',
      'c1:repair_crew',
      'c2:repair_crew',
      'h1:station_head',
    ]);
    expect(contacts[0]).toEqual({ staffId: 'm1', name: '张经理', role: 'manager', phone: '+8613800000000' });
  });
});
