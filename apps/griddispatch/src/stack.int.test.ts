import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessBus, type Bus } from '@griddispatch/bus';
import { EXTERNAL_TOPICS, type RequestView } from '@griddispatch/contracts';
import { parseHttpEnv } from '@griddispatch/http';
import { createLogger } from '@griddispatch/observability';
import { freshDatabase } from '@griddispatch/testkit';
import { buildStack, type Stack } from './stack.ts';

// The embedded composition end to end: one HTTP host, four services, the in-process bus, a real
// PostgreSQL with the sample county. What a station sees on its first start.

const auth = { authorization: 'Bearer e2e-secret-0123456789abcdef' };
let db: Awaited<ReturnType<typeof freshDatabase>>;
let bus: Bus;
let stack: Stack;

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!ok(value)) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}

async function view(id: string): Promise<RequestView> {
  const res = await stack.host.inject({ method: 'GET', url: `/v1/requests/${id}`, headers: auth });
  return res.json() as RequestView;
}

beforeAll(async () => {
  db = await freshDatabase('stack');
  const logger = createLogger({ service: 'stack-test', level: process.env.LOG_LEVEL ?? 'warn' });
  bus = createInProcessBus({ prefix: 'griddispatch.', logger });
  const http = parseHttpEnv({ GD_API_KEYS: 'e2e:e2e-secret-0123456789abcdef:admin', GD_RATE_LIMIT_MAX: '0' });
  stack = await buildStack({ pool: db.pool, bus, logger, http, sampleData: true });
});

afterAll(async () => {
  await stack?.stop();
  await bus?.close();
  await db?.drop();
});

describe('embedded stack', () => {
  it('serves the sample county’s grids', async () => {
    const res = await stack.host.inject({ method: 'GET', url: '/v1/grids', headers: auth });
    expect(res.statusCode).toBe(200);
    const names = (res.json() as { items: { name: string }[] }).items.map((g) => g.name);
    expect(names).toContain('后湖3号网格');
  });

  it('dispatches an aquaculture outage on the 30-minute circle and follows the field app', async () => {
    const post = await stack.host.inject({
      method: 'POST',
      url: '/v1/requests',
      headers: auth,
      payload: {
        source: '95598',
        externalId: 'GD-E2E-0001',
        category: 'fault_repair',
        description: '鱼塘增氧机停电',
        customer: { classes: ['aquaculture'] },
        location: { districtCode: 'HH-TQ-017' },
      },
    });
    expect(post.statusCode).toBe(202);
    const { id } = post.json() as { id: string };

    const assigned = await eventually(
      () => view(id),
      (v) => v.status === 'assigned',
    );
    expect(assigned.grid?.name).toMatch(/^后湖\d号网格$/);
    expect(assigned.assignees.length).toBeGreaterThan(0);
    expect(assigned.sla?.policy).toBe('aquaculture-circle');
    const arrive = Date.parse(assigned.sla!.deadlines.arrive!);
    expect(arrive - Date.parse(assigned.receivedAt)).toBeLessThanOrEqual(30 * 60_000 + 1000);

    const ack = await stack.host.inject({
      method: 'POST',
      url: `/v1/work-orders/${id}/events`,
      headers: auth,
      payload: { type: 'acknowledged', by: 'manager-app' },
    });
    expect(ack.statusCode).toBeLessThan(300);
    const acknowledged = await eventually(
      () => view(id),
      (v) => v.status === 'acknowledged',
    );
    expect(acknowledged.timeline.map((t) => t.type)).toEqual(expect.arrayContaining(['request.received', 'dispatch.assigned']));

    const illegal = await stack.host.inject({
      method: 'POST',
      url: `/v1/work-orders/${id}/events`,
      headers: auth,
      payload: { type: 'closed' },
    });
    expect(illegal.statusCode).toBe(409);
  });

  it('publishes the masked ext.* feed on the in-process bus: the ids to follow a work order, no personal data', async () => {
    const seen: { topic: string; value: string }[] = [];
    const tap = await bus.subscribe({
      groupId: 'outside-consumer',
      topics: [...EXTERNAL_TOPICS],
      fromBeginning: false,
      handler: async (m) => void seen.push({ topic: m.topic, value: m.value.toString('utf8') }),
    });
    try {
      const post = await stack.host.inject({
        method: 'POST',
        url: '/v1/requests',
        headers: auth,
        payload: {
          source: '95598',
          externalId: 'GD-E2E-EXT-1',
          // Not a fault: it opens no incident the outage tests below would meet.
          category: 'billing',
          description: '电费有疑问，请回电13912345678',
          customer: { name: '欧阳娜娜', phone: '13912345678', accountNo: '3300077777', classes: ['aquaculture'] },
          location: { districtCode: 'HH-TQ-020', address: '后湖村七组8号' },
        },
      });
      const { id } = post.json() as { id: string };
      await eventually(
        () => view(id),
        (v) => v.status === 'assigned',
      );
      const mine = await eventually(
        async () => seen.filter((r) => r.value.includes(id)),
        (rows) => rows.some((r) => r.topic === 'ext.dispatch.assigned'),
      );
      const text = mine.map((r) => r.value).join('\n');
      for (const secret of ['欧阳娜娜', '13912345678', '3300077777', '后湖村七组8号']) expect(text).not.toContain(secret);
      const assigned = JSON.parse(mine.find((r) => r.topic === 'ext.dispatch.assigned')!.value) as {
        data: { workOrderId: string; request: { externalId: string; customer: { name: string } } };
      };
      expect(assigned.data).toMatchObject({ workOrderId: id, request: { externalId: 'GD-E2E-EXT-1', customer: { name: '欧*' } } });
    } finally {
      await tap.stop();
    }
  });

  it('a cancelled primary leaves its incident open: a work order of the incident takes over the crew, the merged call keeps following', async () => {
    const call = async (externalId: string) => {
      const post = await stack.host.inject({
        method: 'POST',
        url: '/v1/requests',
        headers: auth,
        payload: { source: '95598', externalId, category: 'fault_repair', location: { districtCode: 'HH-TQ-019' } },
      });
      const { id } = post.json() as { id: string };
      return eventually(
        () => view(id),
        (v) => v.status === 'assigned' && v.role !== null,
      );
    };
    const first = await call('GD-E2E-CANCEL-1');
    const second = await call('GD-E2E-CANCEL-2');
    expect([first.role, second.role, second.incidentId]).toEqual(['primary', 'merged', first.incidentId]);
    const cancel = await stack.host.inject({
      method: 'POST',
      url: `/v1/work-orders/${first.id}/events`,
      headers: auth,
      payload: { type: 'cancelled', note: '重复工单' },
    });
    expect(cancel.statusCode).toBeLessThan(300);

    // intake opens the incident's own work order (source grid-dispatch); routing makes it the primary.
    const incident = async () =>
      (await stack.host.inject({ method: 'GET', url: `/v1/incidents/${first.incidentId}`, headers: auth })).json() as {
        status: string;
        primaryRequestId: string | null;
      };
    const taken = await eventually(incident, (i) => i.primaryRequestId !== null && i.primaryRequestId !== first.id);
    expect(taken.status).toBe('dispatched');
    const replacement = await eventually(
      () => view(taken.primaryRequestId!),
      (v) => v.role === 'primary',
    );
    expect([replacement.source, replacement.incidentId, replacement.status]).toEqual(['grid-dispatch', first.incidentId, 'assigned']);
    for (const type of ['acknowledged', 'en_route', 'arrived', 'resolved']) {
      const res = await stack.host.inject({ method: 'POST', url: `/v1/work-orders/${replacement.id}/events`, headers: auth, payload: { type } });
      expect(res.statusCode, type).toBeLessThan(300);
    }
    expect(
      (
        await eventually(
          () => view(second.id),
          (v) => v.status === 'resolved',
        )
      ).role,
    ).toBe('merged');
    expect((await view(first.id)).status).toBe('cancelled');
  });

  it('serves the outage API: a fault call’s incident on /v1/incidents follows its work order to restored; /v1/storm', async () => {
    const post = await stack.host.inject({
      method: 'POST',
      url: '/v1/requests',
      headers: auth,
      payload: { source: '95598', externalId: 'GD-E2E-0002', category: 'fault_repair', location: { districtCode: 'HH-TQ-018' } },
    });
    const { id } = post.json() as { id: string };
    const routed = await eventually(
      () => view(id),
      (v) => v.status === 'assigned' && v.incidentId !== null,
    );
    const incident = async () =>
      (await stack.host.inject({ method: 'GET', url: `/v1/incidents/${routed.incidentId}`, headers: auth })).json() as {
        status: string;
        primaryRequestId: string;
      };
    expect(await incident()).toMatchObject({ status: 'dispatched', primaryRequestId: id });
    const list = await stack.host.inject({ method: 'GET', url: '/v1/incidents?status=dispatched', headers: auth });
    expect((list.json() as { items: { id: string }[] }).items.map((i) => i.id)).toContain(routed.incidentId);
    for (const type of ['acknowledged', 'en_route', 'arrived', 'resolved']) {
      const res = await stack.host.inject({ method: 'POST', url: `/v1/work-orders/${id}/events`, headers: auth, payload: { type } });
      expect(res.statusCode, type).toBeLessThan(300);
    }
    await eventually(incident, (i) => i.status === 'restored');
    const storm = await stack.host.inject({ method: 'PUT', url: '/v1/storm', headers: auth, payload: { gridIds: 'all', active: true } });
    expect(storm.statusCode).toBe(200);
    expect((await stack.host.inject({ method: 'GET', url: '/v1/storm', headers: auth })).json()).toMatchObject({
      items: [{ gridId: '*', active: true, factor: 1.5 }],
    });

    // The reports (docs/architecture.md#reports) are served too: the crew's times are there; an outage of a few
    // seconds is momentary, so no customer interruption is counted.
    const period = `from=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}&to=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`;
    const response = await eventually(
      async () =>
        (await stack.host.inject({ method: 'GET', url: `/v1/reports/response?${period}`, headers: auth })).json() as {
          rows: { key: string; workOrders: number; mttr: number | null }[];
        },
      (r) => r.rows.some((row) => row.mttr !== null),
    );
    expect(response.rows.reduce((n, row) => n + row.workOrders, 0)).toBeGreaterThanOrEqual(1);
    const reliability = await stack.host.inject({ method: 'GET', url: `/v1/reports/reliability?${period}`, headers: auth });
    expect(reliability.statusCode).toBe(200);
    const rows = (reliability.json() as { rows: { key: string; customersServed: number; customerInterruptions: number }[] }).rows;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.customersServed > 0 && row.customerInterruptions === 0)).toBe(true);
    const csv = await stack.host.inject({ method: 'GET', url: `/v1/reports/reliability?${period}&groupBy=feeder`, headers: { ...auth, accept: 'text/csv' } });
    expect(csv.body.split('\r\n')[0]).toBe('key,customersServed,customerInterruptions,customerMinutes,saifi,saidi,caidi,asai');
  });

  it('answers readiness with every service up', async () => {
    const res = await stack.host.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
  });
});
