import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '@griddispatch/bus';
import type { Incident, InboundSmsOutcome, RequestView } from '@griddispatch/contracts';
import { parseHttpEnv } from '@griddispatch/http';
import { createLogger } from '@griddispatch/observability';
import { createTestInProcessBus, createTestKafkaBus, freshDatabase } from '@griddispatch/testkit';
import { buildStack, type Stack } from './stack.ts';

// Replies by SMS end to end (docs/architecture.md#callbacks-and-replies), all four services on a
// real PostgreSQL, once on the embedded start's in-process bus and once on the real Kafka broker:
// the dispatch SMS carries a code, `1 <code>` from the assignee acknowledges the work order (and
// stops its ack clock); the incident's restoration asks each caller to confirm, answers land on the
// request, and `still_out` reopens the outage without counting its customer-minutes twice.

const ADMIN = 'replies-admin-0123456789abcdef';
const GATEWAY = 'replies-gateway-0123456789abcdef';

interface Sms {
  to: string;
  text: string;
  params: Record<string, string>;
}

/** The SMS gateway: records every message the service sends. */
async function smsGateway(): Promise<{ url: string; sent: Sms[]; server: Server }> {
  const sent: Sms[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      sent.push(JSON.parse(body) as Sms);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/sms`, sent, server };
}

async function until<T>(read: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each([
  ['embedded (in-process bus)', () => createTestInProcessBus()],
  ['Kafka', () => createTestKafkaBus()],
])('replies by SMS, %s', (_mode, makeBus: () => Bus | Promise<Bus>) => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let bus: Bus;
  let stack: Stack;
  let gateway: Awaited<ReturnType<typeof smsGateway>>;
  const saved = { ...process.env };

  beforeAll(async () => {
    gateway = await smsGateway();
    process.env.NOTIFY_SMS_URL = gateway.url;
    db = await freshDatabase('replies');
    bus = await makeBus();
    const logger = createLogger({ service: 'replies-test', level: process.env.LOG_LEVEL ?? 'warn' });
    stack = await buildStack({
      pool: db.pool,
      bus,
      logger,
      http: parseHttpEnv({ GD_API_KEYS: `admin:${ADMIN}:admin,gateway:${GATEWAY}:inbound:write`, GD_RATE_LIMIT_MAX: '0', GD_DOCS: '1' }),
      sampleData: true,
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await bus?.close();
    await db?.drop();
    gateway?.server.close();
    process.env = saved;
  });

  const call = async (method: 'GET' | 'POST', url: string, payload?: unknown, key = ADMIN) => {
    const res = await stack.host.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}` },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
    return { status: res.statusCode, body: res.json() as unknown };
  };
  const sms = async (from: string, text: string, at = new Date()) => {
    const res = await call('POST', '/v1/inbound/sms', { from, text, at: at.toISOString() }, GATEWAY);
    expect(res.status).toBe(200);
    return (res.body as { results: InboundSmsOutcome[] }).results[0]!;
  };
  const view = async (id: string) => (await call('GET', `/v1/requests/${id}`)).body as RequestView;
  const incident = async (id: string) => (await call('GET', `/v1/incidents/${id}`)).body as Incident;
  const event = (id: string, type: string, at: Date) => call('POST', `/v1/work-orders/${id}/events`, { type, by: 'field-app', at: at.toISOString() });
  const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

  let primary: string;
  let merged: string;
  let staff: { phone: string; code: string };
  const started = minutesAgo(60);

  it('texts the assignee a code; `1 <code>` from their phone acknowledges the work order within 5 s and stops its ack clock', async () => {
    const post = await call('POST', '/v1/requests', {
      source: '95598',
      externalId: 'REPLY-1',
      category: 'fault_repair',
      reportedAt: started.toISOString(),
      location: { districtCode: 'HH-TQ-031' },
      customer: { name: '王芳', phone: '139 0000 0001' },
    });
    expect(post.status).toBe(202);
    primary = (post.body as { id: string }).id;
    const dispatch = await until(() => gateway.sent.find((m) => m.params.workOrder === primary.slice(0, 8).toUpperCase() && m.params.code), 'the dispatch SMS');
    expect(dispatch.text).toMatch(new RegExp(`回复“1 ${dispatch.params.code}”确认接单$`));
    staff = { phone: dispatch.to, code: dispatch.params.code! };

    // Not the addressee's number: refused, and told so.
    expect(await sms('13700000000', `1 ${staff.code}`)).toEqual({ outcome: 'refused', reason: 'not_addressee', replied: true });
    await until(() => gateway.sent.find((m) => m.to === '+8613700000000' && m.text.includes(staff.code)), 'the refusal SMS');
    const unknown = staff.code === 'ZZZZ' ? 'YYYY' : 'ZZZZ';
    expect(await sms(staff.phone, `1 ${unknown}`)).toEqual({ outcome: 'refused', reason: 'unknown_code', replied: true });
    expect((await view(primary)).status).toBe('assigned');

    const at = new Date();
    const t0 = Date.now();
    const reply = `1 ${staff.code.toLowerCase()}`;
    expect(await sms(staff.phone, reply, at)).toEqual({ outcome: 'acknowledged', id: primary, replied: false });
    await until(async () => ((await view(primary)).status === 'acknowledged' ? true : undefined), 'the acknowledgement', 5_000);
    const latencyMs = Date.now() - t0;
    expect(latencyMs).toBeLessThan(5_000);
    console.info(`[replies ${_mode}] SMS reply → work order acknowledged in ${latencyMs} ms`);

    // The same message again (a gateway retry) changes nothing; the code is spent for any later one.
    expect(await sms(staff.phone, reply, at)).toEqual({ outcome: 'duplicate', id: primary, replied: false });
    expect(await sms(staff.phone, `1 ${staff.code}`)).toEqual({ outcome: 'refused', reason: 'stale_code', replied: true });
    const metrics = (await stack.host.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${ADMIN}` } })).body;
    expect(metrics).toMatch(/griddispatch_notification_inbound_sms_total\{outcome="acknowledged",reason="none"\} 1\b/);
    expect(metrics).toMatch(/griddispatch_notification_inbound_sms_total\{outcome="refused",reason="not_addressee"\} 1\b/);
    const acks = (await view(primary)).timeline.filter((t) => t.type === 'workorder.acknowledged');
    expect(acks).toHaveLength(1);
    const { rows } = await db.pool.query<{ state: string }>("SELECT state FROM sla_timer.timers WHERE work_order_id = $1 AND stage = 'ack'", [primary]);
    expect(rows.length).toBeGreaterThan(0);
    await until(async () => {
      const { rows: now } = await db.pool.query<{ state: string }>("SELECT state FROM sla_timer.timers WHERE work_order_id = $1 AND stage = 'ack'", [primary]);
      return now.every((r) => r.state === 'cancelled') ? true : undefined;
    }, 'the ack clock to stop');
  });

  it('asks every caller once on restoration; answers (in any order, repeated) land on their requests; a number never asked is refused', async () => {
    const post = await call('POST', '/v1/requests', {
      source: '95598',
      externalId: 'REPLY-2',
      category: 'fault_repair',
      location: { districtCode: 'HH-TQ-031' },
      customer: { phone: '13900000002' },
    });
    merged = (post.body as { id: string }).id;
    // A caller who left no mobile number: asked by phone, answered by the agent through the API.
    const third = (
      await call('POST', '/v1/requests', { source: '95598', externalId: 'REPLY-3', category: 'fault_repair', location: { districtCode: 'HH-TQ-031' } })
    ).body as { id: string };
    await until(
      async () => ((await view(merged)).role === 'merged' && (await view(third.id)).role === 'merged' ? true : undefined),
      'the later calls merged into the incident',
    );
    const incidentId = (await view(primary)).incidentId!;
    for (const type of ['en_route', 'arrived', 'resolved']) expect((await event(primary, type, minutesAgo(40))).status).toBe(200);

    for (const phone of ['+8613900000001', '+8613900000002']) {
      await until(() => gateway.sent.find((m) => m.to === phone && m.text.includes('回复1 已恢复供电')), `the callback ask to ${phone}`);
    }
    await until(async () => ((await view(third.id)).callback ? true : undefined), 'the third caller asked');
    expect((await view(third.id)).callback).toMatchObject({ bySms: false, reply: null });
    const byPhone = await call('POST', `/v1/callbacks/${third.id}`, { reply: 'restored', satisfaction: 4 });
    expect(byPhone).toMatchObject({ status: 200, body: { changed: true, callback: { reply: 'restored', satisfaction: 4, bySms: false } } });
    expect((await view(third.id)).timeline.map((t) => t.type)).toContain('callback.answered');
    const before = await view(primary);
    expect(before.callback).toMatchObject({ bySms: true, reply: null, satisfaction: null });

    const at = new Date();
    expect(await sms('13900000001', '1 5', at)).toEqual({ outcome: 'callback_answered', id: primary, replied: false });
    expect(await sms('13900000001', '1 5', at)).toMatchObject({ outcome: 'duplicate' });
    // A later, contradicting answer changes nothing: the first one stands. (Pushed by Alibaba's SmsUp, Beijing time.)
    const beijing = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
    const alibaba = await call(
      'POST',
      '/v1/inbound/sms/alibaba',
      [{ phone_number: '13900000001', send_time: beijing, content: '2', sign_name: '国网后湖供电所' }],
      GATEWAY,
    );
    expect(alibaba).toEqual({ status: 200, body: { code: 0, msg: '成功' } });
    // Out of order: the satisfaction before the answer (pushed by Tencent's reply callback).
    const tencent = await call(
      'POST',
      '/v1/inbound/sms/tencent',
      { mobile: '13900000002', nationcode: '86', text: '满意度3', time: Math.floor(Date.now() / 1000) },
      GATEWAY,
    );
    expect(tencent).toEqual({ status: 200, body: { result: 0, errmsg: 'OK' } });
    // Not the vendor's format: refused, nothing taken.
    expect((await call('POST', '/v1/inbound/sms/tencent', { from: '13900000002', text: '1' }, GATEWAY)).status).toBe(400);
    expect(await sms('13900000002', '2')).toMatchObject({ outcome: 'callback_answered', id: merged });
    expect(await sms('13500000000', '1')).toEqual({ outcome: 'refused', reason: 'not_asked', replied: false });

    await until(async () => ((await view(merged)).callback?.reply === 'still_out' ? true : undefined), 'the second caller’s answer');
    expect((await view(primary)).callback).toMatchObject({ reply: 'restored', satisfaction: 5 });
    expect((await view(merged)).callback).toMatchObject({ reply: 'still_out', satisfaction: 3 });
    // An agent's answer afterwards is taken as already known.
    const agent = await call('POST', `/v1/callbacks/${primary}`, { reply: 'still_out' });
    expect(agent).toMatchObject({ status: 200, body: { changed: false, callback: { reply: 'restored', satisfaction: 5 } } });
    const asks = gateway.sent.filter((m) => m.to === '+8613900000001' && m.text.includes('回复1 已恢复供电'));
    expect(asks).toHaveLength(1);
    expect((await incident(incidentId)).status).toBe('restored');
  });

  it('`still_out` reopens the 台区 with the original start, and the report counts its minutes once', async () => {
    const parentId = (await view(primary)).incidentId!;
    const parent = await incident(parentId);
    const followUp = await until(async () => {
      const list = (await call('GET', '/v1/incidents?limit=100')).body as { items: Incident[] };
      return list.items.find((i) => i.id !== parentId && i.districtCodes.includes('HH-TQ-031'));
    }, 'the follow-up incident');
    expect(followUp.openedAt).toBe(parent.openedAt);
    // Its own work order carries the crew (opened by intake, rule 2); restoring it ends the outage.
    const own = await until(async () => (await incident(followUp.id)).primaryRequestId ?? undefined, 'the follow-up’s work order');
    await until(async () => ((await view(own)).status === 'assigned' ? true : undefined), 'its dispatch');
    for (const type of ['acknowledged', 'en_route', 'arrived', 'resolved']) expect((await event(own, type, minutesAgo(10))).status).toBe(200);
    await until(async () => ((await incident(followUp.id)).status === 'restored' ? true : undefined), 'the follow-up restored');

    const { rows } = await db.pool.query<{ id: string; evidence_at: Date; interrupted_until: Date; affected_customers: number }>(
      'SELECT id, evidence_at, interrupted_until, affected_customers FROM routing.incidents WHERE id = ANY($1) ORDER BY evidence_at',
      [[parentId, followUp.id]],
    );
    const [first, second] = rows;
    expect(first!.id).toBe(parentId);
    // Back to back: the follow-up starts where the restored incident's interruption ended.
    expect(second!.evidence_at.getTime()).toBe(first!.interrupted_until.getTime());
    const customers = first!.affected_customers;
    const expectedMinutes = customers * ((second!.interrupted_until.getTime() - first!.evidence_at.getTime()) / 60_000);
    const report = await call(
      'GET',
      `/v1/reports/reliability?from=${encodeURIComponent(minutesAgo(180).toISOString())}&to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}&groupBy=feeder&includeMed=true`,
    );
    const rowsOut = (report.body as { rows: { key: string; customerInterruptions: number; customerMinutes: number }[] }).rows;
    const hit = rowsOut.filter((r) => r.customerMinutes > 0);
    expect(hit).toHaveLength(1);
    expect(hit[0]!.customerInterruptions).toBe(customers);
    expect(hit[0]!.customerMinutes).toBeCloseTo(expectedMinutes, 1);
  });

  it('documents both routes and the callback in the read model (OpenAPI)', async () => {
    type Op = { requestBody?: unknown; responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }> };
    const doc = (await stack.host.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, { post?: Op; get?: Op }> };
    expect(Object.keys(doc.paths['/v1/inbound/sms']?.post?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '401', '403']));
    expect(doc.paths['/v1/inbound/sms']?.post?.requestBody).toBeDefined();
    expect(Object.keys(doc.paths['/v1/callbacks/{requestId}']?.post?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '404', '409']));
    const view = doc.paths['/v1/requests/{id}']?.get?.responses['200']?.content?.['application/json']?.schema;
    expect(Object.keys(view?.properties ?? {})).toContain('callback');
  });
});
