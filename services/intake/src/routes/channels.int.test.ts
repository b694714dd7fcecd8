import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEvent, type RequestReceivedV1 } from '@griddispatch/contracts';
import { adapter12345 } from '../adapters/12345.ts';
import { adapter95598 } from '../adapters/95598.ts';
import { assignedData, KEYS, startHarness, type Harness } from '../testing/harness.ts';

// The other ways in: the 95598 and 12345 source adapters, and Open311 GeoReport v2.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

async function receivedEvent(id: string): Promise<RequestReceivedV1> {
  await h.settle();
  const record = (h.published.get('requests.received') ?? []).find((m) => m.key === id);
  expect(record).toBeDefined();
  return parseEvent(record!.value).data as RequestReceivedV1;
}

const form = (fields: Record<string, string>, key?: string) => ({
  method: 'POST' as const,
  url: '/open311/v2/requests.json',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...(key ? { authorization: `Bearer ${key}` } : {}) },
  payload: new URLSearchParams(fields).toString(),
});

describe('95598 adapter', () => {
  it('maps the documented example to our request', async () => {
    const res = await h.post('/v1/requests/95598', adapter95598.example);
    expect(res.statusCode).toBe(202);
    const data = await receivedEvent(res.json().id);
    expect(data).toMatchObject({
      source: '95598',
      externalId: '2026112342010188',
      category: 'fault_repair',
      urgency: 'urgent',
      reportedAt: '2026-11-23T11:40:05.000Z',
      description: '养殖塘增氧机停电，全组无电',
      customer: { accountNo: '4200105566', name: '张三', phone: '13812345678', classes: ['aquaculture'] },
      location: { districtCode: 'HH-TQ-017', address: '湖北省武汉市新洲区后湖村三组' },
    });
    const retry = await h.post('/v1/requests/95598', adapter95598.example);
    expect(retry.json()).toEqual({ id: res.json().id, status: 'received', duplicate: true });
  });

  it('names 95598 fields in its errors and stores nothing', async () => {
    const before = await h.count('requests');
    const badCode = await h.post('/v1/requests/95598', { ...adapter95598.example, gdbh: 'X-1', ywlb: '99' });
    expect(badCode.statusCode).toBe(400);
    expect(badCode.json().error.details[0].path).toBe('ywlb');
    const noPlace = await h.post('/v1/requests/95598', { gdbh: 'X-2', ywlb: '04', slnr: '咨询电价' });
    expect(noPlace.statusCode).toBe(400);
    expect(noPlace.json().error.details[0].path).toBe('khbh|tqbh');
    const badPhone = await h.post('/v1/requests/95598', { ...adapter95598.example, gdbh: 'X-3', lxdh: 'call me' });
    expect(badPhone.json().error.details[0].path).toBe('lxdh');
    const badTime = await h.post('/v1/requests/95598', { ...adapter95598.example, gdbh: 'X-4', slsj: '2026-02-30 10:00:00' });
    expect(badTime.json().error.details[0].path).toBe('slsj');
    expect(await h.count('requests')).toBe(before);
  });
});

describe('12345 adapter', () => {
  it('maps the documented example, coordinates as numbers or strings', async () => {
    const res = await h.post('/v1/requests/12345', adapter12345.example);
    expect(res.statusCode).toBe(202);
    const data = await receivedEvent(res.json().id);
    expect(data).toMatchObject({
      source: '12345',
      externalId: 'WH12345-20261123-000871',
      category: 'fault_repair',
      urgency: 'urgent',
      reportedAt: '2026-11-23T11:32:10.000Z',
      description: '小区停电：天城镇隽水社区3栋整栋停电两小时，家中有老人',
      customer: { name: '李四', phone: '13987654321', classes: ['vulnerable'] },
      location: { communityCode: '421223100002', lon: 114.2468, lat: 29.5412, address: '崇阳县天城镇隽水社区3栋' },
    });
    const strings = await h.post('/v1/requests/12345', { ...adapter12345.example, caseId: 'WH-2', longitude: '114.25', latitude: '29.54' });
    expect((await receivedEvent(strings.json().id)).location).toMatchObject({ lon: 114.25, lat: 29.54 });
  });

  it('names 12345 fields in its errors', async () => {
    const res = await h.post('/v1/requests/12345', { ...adapter12345.example, caseId: 'WH-3', latitude: 95 });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0].path).toBe('latitude');
    const type = await h.post('/v1/requests/12345', { ...adapter12345.example, caseId: 'WH-4', eventType: 'UFO' });
    expect(type.json().error.details[0].path).toBe('eventType');
  });
});

describe('Open311 GeoReport v2', () => {
  it('lists our categories as services', async () => {
    const res = await h.get('/open311/v2/services.json');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toContainEqual(expect.objectContaining({ service_code: 'fault_repair', service_name: '故障报修', type: 'realtime', metadata: false }));
    expect(res.json()).toHaveLength(7);
  });

  it('accepts a form-encoded request with attributes and shows its status, grid and expected time', async () => {
    const fields = {
      service_code: 'fault_repair',
      lat: '30.7101',
      long: '114.5203',
      address_string: '后湖村三组鱼塘',
      account_id: '4200105566',
      description: '鱼塘增氧机没电了',
      'attribute[external_id]': 'civic-0001',
      'attribute[customer_class]': 'aquaculture',
      'attribute[urgency]': 'critical',
    };
    const res = await h.inject(form(fields, KEYS.writer));
    expect(res.statusCode).toBe(200);
    const [created] = res.json();
    expect(created).toMatchObject({ service_request_id: expect.any(String), account_id: '4200105566' });
    const id = created.service_request_id as string;
    const data = await receivedEvent(id);
    expect(data).toMatchObject({
      source: 'open311',
      externalId: 'sgcc-95598/civic-0001',
      urgency: 'critical',
      customer: { accountNo: '4200105566', classes: ['aquaculture'] },
      location: { lat: 30.7101, lon: 114.5203 },
    });
    // Retried with the same external id: same request.
    expect((await h.inject(form(fields, KEYS.writer))).json()[0].service_request_id).toBe(id);

    let one = await h.get(`/open311/v2/requests/${id}.json`);
    expect(one.statusCode).toBe(200);
    expect(one.json()[0]).toMatchObject({
      service_request_id: id,
      status: 'open',
      status_notes: '已受理，正在派单',
      agency_responsible: null,
      expected_datetime: null,
      service_code: 'fault_repair',
    });
    // No customer data for a key without pii:read: no description, no address, the point to about 1 km.
    expect(one.json()[0]).toMatchObject({ description: null, address: null, lat: 30.71, long: 114.52 });
    expect(one.body).not.toContain('鱼塘增氧机没电了');
    expect(one.body).not.toContain('4200105566');
    expect((await h.get(`/open311/v2/requests.json?service_request_id=${id}`)).json()[0]).toMatchObject({ description: null, address: null, lat: 30.71 });
    // A key with pii:read (admin implies it) sees them.
    expect((await h.get(`/open311/v2/requests/${id}.json`, KEYS.admin)).json()[0]).toMatchObject({
      description: '鱼塘增氧机没电了',
      address: '后湖村三组鱼塘',
      lat: 30.7101,
      long: 114.5203,
    });

    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id }));
    await h.settle();
    one = await h.get(`/open311/v2/requests/${id}.json`);
    expect(one.json()[0]).toMatchObject({
      status: 'open',
      status_notes: '已派单至网格：后湖3号网格',
      agency_responsible: '后湖3号网格',
      expected_datetime: '2026-11-23T14:00:00.000Z',
    });

    await h.post(`/v1/work-orders/${id}/events`, { type: 'cancelled' }, KEYS.admin);
    const closed = await h.get(`/open311/v2/requests.json?status=closed&service_request_id=${id}`);
    expect(closed.json().map((r: { service_request_id: string }) => r.service_request_id)).toEqual([id]);
    expect((await h.get(`/open311/v2/requests.json?status=open&service_request_id=${id}`)).json()).toEqual([]);
    expect((await h.get('/open311/v2/requests.json?service_code=fault_repair')).json().length).toBeGreaterThan(0);
  });

  it('takes the key as api_key and answers errors in the GeoReport format', async () => {
    const ok = await h.inject(
      form({ service_code: 'consultation', api_key: KEYS.writer, 'attribute[community_code]': '421223100002', description: '咨询峰谷电价' }),
    );
    expect(ok.statusCode).toBe(200);
    expect((await h.inject({ method: 'GET', url: `/open311/v2/services.json?api_key=${KEYS.reader}` })).statusCode).toBe(200);

    const noKey = await h.inject(form({ service_code: 'consultation' }));
    expect(noKey.statusCode).toBe(401);
    expect(noKey.json()).toEqual([{ code: 401, description: expect.any(String) }]);
    const badService = await h.inject(form({ service_code: 'potholes', lat: '30', long: '114' }, KEYS.writer));
    expect(badService.statusCode).toBe(400);
    expect(badService.json()[0].code).toBe(400);
    const noLocation = await h.inject(form({ service_code: 'fault_repair', address_string: '某地' }, KEYS.writer));
    expect(noLocation.statusCode).toBe(400);
    expect(noLocation.json()[0].description).toMatch(/^lat\+long\|account_id/);
    expect((await h.get('/open311/v2/requests/7f1c3a2e-0000-4000-8000-000000000000.json')).json()).toEqual([{ code: 404, description: expect.any(String) }]);
    expect((await h.inject(form({ service_code: 'fault_repair', lat: '30', long: '114' }, KEYS.reader))).statusCode).toBe(403);
  });
});
