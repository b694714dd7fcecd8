import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentEventV1 } from '@griddispatch/contracts';
import { withTransaction } from '@griddispatch/db';
import { startHarness, type Harness } from './testing/harness.ts';
import { noticeRecords, noticesForIncident, type Notice } from './use-cases/tell-customers.ts';

// Who is told which stage (docs/architecture.md#telling-the-customers), against the routing
// schema: a 台区 incident that opened first keeps its 台区's episode when it nests under a feeder
// incident; the feeder incident tells the rest; ETR changes come from the top level and only when
// they moved ≥ 30 min; a 台区 told of its restoration is not told of the parent's outage again.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const T0 = Date.parse('2026-12-07T08:00:00Z');
const at = (min: number) => new Date(T0 + min * 60_000).toISOString();

function incident(over: Partial<IncidentEventV1>): IncidentEventV1 {
  return {
    id: 'A',
    status: 'dispatched',
    origin: 'meter',
    kind: 'district',
    gridId: 'HH-G1',
    feederCode: 'HH-10kV-01',
    districtCodes: ['TQ-001'],
    parentId: null,
    childIds: [],
    callCount: 0,
    affectedCustomers: 1,
    urgency: 'urgent',
    openedAt: at(0),
    etr: at(120),
    etrSource: 'policy',
    primaryRequestId: null,
    plannedOutageId: null,
    restoredAt: null,
    restorationUnconfirmed: false,
    updatedAt: at(0),
    change: 'opened',
    ...over,
  };
}

const tell = (event: IncidentEventV1, min: number): Promise<Notice[]> =>
  withTransaction(h.db.pool, (client) => noticesForIncident(client, event, new Date(T0 + min * 60_000)));
const brief = (notices: Notice[]) => notices.map((n) => `${n.subjectId} ${n.stage} ${n.districtCodes.join(',')}`);

describe('telling the customers of nested incidents', () => {
  it('tells each 台区 each stage once, through nesting, ETR changes and restoration', async () => {
    const child = incident({});
    const parent = incident({ id: 'P', kind: 'feeder', districtCodes: ['TQ-001'], childIds: ['A'], openedAt: at(1), etr: at(125), change: 'opened' });
    expect(brief(await tell(child, 0))).toEqual(['A outage TQ-001']);
    // The feeder incident covers its whole line: TQ-002 is told under it, TQ-001 already was.
    expect(brief(await tell(parent, 1))).toEqual(['P outage TQ-002']);
    expect(brief(await tell({ ...child, parentId: 'P', change: 'nested' }, 1))).toEqual([]);
    // The parent's ETR moves 2 h: each episode hears it under its own key.
    const later = { ...parent, etr: at(245), etrSource: 'manual' as const, change: 'etr' };
    expect(brief(await tell(later, 5))).toEqual([`A etr:${at(245)} TQ-001`, `P etr:${at(245)} TQ-002`]);
    // 10 more minutes: not worth an SMS; a child's own ETR never is (its parent's governs).
    expect(brief(await tell({ ...later, etr: at(255) }, 6))).toEqual([]);
    expect(brief(await tell({ ...child, parentId: 'P', etr: at(400), change: 'etr' }, 6))).toEqual([]);
    // The child is restored; the parent, still open, does not tell TQ-001 of its outage again.
    expect(brief(await tell({ ...child, parentId: 'P', status: 'restored', restoredAt: at(30), change: 'status' }, 30))).toEqual(['A restored TQ-001']);
    expect(brief(await tell({ ...later, etr: at(255), change: 'calls' }, 31))).toEqual([]);
    // The parent's restoration tells the rest of its line, once.
    const restored = { ...later, status: 'restored' as const, restoredAt: at(40), change: 'status' };
    expect(brief(await tell(restored, 40))).toEqual(['P restored TQ-002']);
    expect(brief(await tell(restored, 41))).toEqual([]);
    // A new fault on TQ-001 is a new episode.
    expect(brief(await tell(incident({ id: 'B', openedAt: at(60) }), 60))).toEqual(['B outage TQ-001']);
  });

  it("a planned outage's incident tells nothing (its customers had the planned notices); a restoration never announced tells nothing", async () => {
    expect(await tell(incident({ id: 'PL', origin: 'planned', districtCodes: ['TQ-003'], feederCode: 'TC-10kV-01' }), 0)).toEqual([]);
    expect(await tell(incident({ id: 'R', districtCodes: ['TQ-004'], feederCode: 'TC-10kV-01', status: 'restored', restoredAt: at(5) }), 5)).toEqual([]);
  });

  it('a notice names the accounts with a phone in urgency order, with their 台区 names', async () => {
    const records = await withTransaction(h.db.pool, (client) =>
      noticeRecords(
        client,
        [{ subjectId: 'P', subjectKind: 'incident', kind: 'outage.detected', stage: 'outage', districtCodes: ['TQ-001', 'TQ-002'], etr: new Date(at(120)) }],
        new Date(T0),
      ),
    );
    expect(records).toHaveLength(1);
    expect(records[0]!.key).toBe('P');
    const data = (
      JSON.parse(records[0]!.value) as {
        data: { recipients: { accountNo: string; classes: string[] }[]; districts: Record<string, string>; part: number; parts: number };
      }
    ).data;
    expect(data.recipients.map((r) => r.accountNo)).toEqual(['3000000002', '3000000001']); // the aquaculture account first
    expect(data.districts).toEqual({ 'TQ-001': '湖滨1号台区', 'TQ-002': '湖滨2号台区' });
    expect([data.part, data.parts]).toEqual([1, 1]);
  });
});
