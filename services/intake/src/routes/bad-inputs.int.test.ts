import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, requestBody, startHarness, type Harness } from '../testing/harness.ts';

// Every case must be refused with a 4xx AND leave no trace: no request row, no timeline entry,
// no outbox row, nothing published. The last test checks the traces after the whole table ran.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const valid = () => requestBody({ externalId: 'GD-BAD-BASE' });
const withFields = (over: Record<string, unknown>) => JSON.stringify({ ...valid(), ...over });
const withLocation = (loc: Record<string, unknown>) => withFields({ location: loc });
const withCustomer = (customer: Record<string, unknown>) => withFields({ customer });
const without = (field: string) => {
  const body = valid();
  delete body[field];
  return JSON.stringify(body);
};
const validJson = JSON.stringify(valid());

interface Case {
  name: string;
  payload: string | Buffer;
  contentType?: string | null;
  status: number;
}

const cases: Case[] = [
  // Not JSON, or not the JSON we take
  { name: 'malformed JSON (truncated)', payload: '{"source":"95598","externalId":', status: 400 },
  { name: 'trailing comma', payload: validJson.replace(/}$/, ',}'), status: 400 },
  { name: 'single-quoted JSON', payload: "{'source':'95598'}", status: 400 },
  { name: 'NaN literal', payload: withLocation({ lon: 1, lat: 2 }).replace('"lat":2', '"lat":NaN'), status: 400 },
  { name: 'empty body', payload: '', status: 400 },
  { name: 'JSON null', payload: 'null', status: 400 },
  { name: 'array instead of object', payload: '[]', status: 400 },
  { name: 'array holding a valid request', payload: `[${validJson}]`, status: 400 },
  { name: 'string instead of object', payload: '"fault_repair"', status: 400 },
  { name: 'number instead of object', payload: '42', status: 400 },
  { name: 'duplicate top-level key', payload: validJson.replace('{', '{"externalId":"GD-OTHER",'), status: 400 },
  {
    name: 'duplicate nested key',
    payload: withLocation({ districtCode: 'HH-TQ-017' }).replace('"districtCode"', '"districtCode":"HH-TQ-001","districtCode"'),
    status: 400,
  },
  { name: 'nested 100 levels deep', payload: `${'['.repeat(100)}1${']'.repeat(100)}`, status: 400 },
  {
    name: 'bytes that are not UTF-8',
    payload: Buffer.concat([Buffer.from(validJson.slice(0, -2)), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
    status: 400,
  },
  // Missing or wrong fields
  { name: 'missing source', payload: without('source'), status: 400 },
  { name: 'missing externalId', payload: without('externalId'), status: 400 },
  { name: 'missing category', payload: without('category'), status: 400 },
  { name: 'missing location', payload: without('location'), status: 400 },
  { name: 'location null', payload: withFields({ location: null }), status: 400 },
  { name: 'location without any locator', payload: withFields({ location: { address: '后湖村' }, customer: undefined }), status: 400 },
  { name: 'empty location and no account', payload: withFields({ location: {}, customer: { name: '张三' } }), status: 400 },
  { name: 'lon without lat', payload: withLocation({ lon: 114.5 }), status: 400 },
  { name: 'latitude above 90', payload: withLocation({ lon: 114.5, lat: 90.0001 }), status: 400 },
  { name: 'latitude below -90', payload: withLocation({ lon: 114.5, lat: -91 }), status: 400 },
  { name: 'longitude above 180', payload: withLocation({ lon: 180.5, lat: 30 }), status: 400 },
  { name: 'latitude overflowing to Infinity', payload: withLocation({ lon: 114, lat: 1 }).replace('"lat":1', '"lat":1e999'), status: 400 },
  { name: 'latitude as a string', payload: withLocation({ lon: 114.5, lat: '30.7' }), status: 400 },
  { name: 'unknown category', payload: withFields({ category: 'weather' }), status: 400 },
  { name: 'category in the wrong case', payload: withFields({ category: 'FAULT_REPAIR' }), status: 400 },
  { name: 'unknown urgency', payload: withFields({ urgency: 'extreme' }), status: 400 },
  { name: 'source as a number', payload: withFields({ source: 95598 }), status: 400 },
  { name: 'empty externalId', payload: withFields({ externalId: '' }), status: 400 },
  { name: 'blank externalId', payload: withFields({ externalId: '   ' }), status: 400 },
  { name: 'externalId over 128 characters', payload: withFields({ externalId: 'G'.repeat(129) }), status: 400 },
  { name: 'description null', payload: withFields({ description: null }), status: 400 },
  { name: 'description over 4000 characters', payload: withFields({ description: '停'.repeat(4001) }), status: 400 },
  { name: '1 MB description', payload: withFields({ description: 'x'.repeat(1024 * 1024) }), status: 413 },
  { name: 'reportedAt not a date', payload: withFields({ reportedAt: 'yesterday' }), status: 400 },
  { name: 'reportedAt impossible date', payload: withFields({ reportedAt: '2026-13-45T25:00:00Z' }), status: 400 },
  { name: 'reportedAt without offset', payload: withFields({ reportedAt: '2026-11-23T19:00:00' }), status: 400 },
  { name: 'unknown customer class', payload: withCustomer({ accountNo: '4200105566', classes: ['rich'] }), status: 400 },
  { name: 'customer classes not an array', payload: withCustomer({ accountNo: '4200105566', classes: 'aquaculture' }), status: 400 },
  { name: '10,000 customer classes', payload: withCustomer({ accountNo: '4200105566', classes: Array(10_000).fill('resident') }), status: 400 },
  { name: 'customer name over 100 characters', payload: withCustomer({ accountNo: '4200105566', name: '张'.repeat(101) }), status: 400 },
  { name: 'unknown customer field (ID card)', payload: withCustomer({ accountNo: '4200105566', idCard: '420102199001011234' }), status: 400 },
  { name: 'unknown top-level field', payload: withFields({ priority: 1 }), status: 400 },
  // Unicode edge cases
  { name: 'lone high surrogate in description', payload: withFields({ description: 'abc' }).replace('abc', '\\ud800'), status: 400 },
  { name: 'lone low surrogate in externalId', payload: withFields({ externalId: 'GD-1' }).replace('GD-1', 'GD-\\udc00'), status: 400 },
  { name: 'NUL character in description', payload: withFields({ description: 'abc' }).replace('abc', 'a\\u0000b'), status: 400 },
  { name: 'zero-width space in externalId', payload: withFields({ externalId: 'GD\u200b-1' }), status: 400 },
  { name: 'RTL override in source', payload: withFields({ source: '\u202e95598' }), status: 400 },
  { name: 'RTL override in description', payload: withFields({ description: '停电\u202eredro' }), status: 400 },
  { name: 'byte-order mark inside districtCode', payload: withLocation({ districtCode: 'HH-\ufeffTQ-017' }), status: 400 },
  { name: 'emoji in externalId', payload: withFields({ externalId: 'GD-😀' }), status: 400 },
  { name: 'escape character in customer name', payload: withCustomer({ accountNo: '4200105566', name: '张\u001b[31m三' }), status: 400 },
  // Injection strings
  { name: 'SQL injection in externalId', payload: withFields({ externalId: "x'); DROP TABLE intake.requests;--" }), status: 400 },
  { name: 'SQL injection in districtCode', payload: withLocation({ districtCode: "' OR 1=1 --" }), status: 400 },
  { name: 'SQL injection in phone', payload: withCustomer({ accountNo: '4200105566', phone: "1' OR '1'='1" }), status: 400 },
  { name: 'SQL injection in category', payload: withFields({ category: "fault_repair' OR '1'='1" }), status: 400 },
  { name: 'script tag in source', payload: withFields({ source: '<script>alert(1)</script>' }), status: 400 },
  { name: 'operator object in location (NoSQL style)', payload: withLocation({ districtCode: { $gt: '' } }), status: 400 },
  { name: 'extra operator key in location', payload: withLocation({ districtCode: 'HH-TQ-017', $where: '1' }), status: 400 },
  { name: '__proto__ pollution', payload: validJson.replace('{', '{"__proto__":{"admin":true},'), status: 400 },
  { name: 'constructor.prototype pollution', payload: withFields({ constructor: { prototype: { admin: true } } }), status: 400 },
  // Media types
  { name: 'form-encoded body', payload: 'source=95598&externalId=x', contentType: 'application/x-www-form-urlencoded', status: 415 },
  { name: 'text/plain body', payload: validJson, contentType: 'text/plain', status: 415 },
  { name: 'no content-type', payload: validJson, contentType: null, status: 415 },
  {
    name: 'multipart body',
    payload: '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--',
    contentType: 'multipart/form-data; boundary=b',
    status: 415,
  },
];

describe('bad inputs to POST /v1/requests', () => {
  it('has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases)('$name → $status', async ({ payload, contentType, status }) => {
    const headers: Record<string, string> = { authorization: `Bearer ${KEYS.writer}` };
    if (contentType !== null) headers['content-type'] = contentType ?? 'application/json';
    const res = await h.inject({ method: 'POST', url: '/v1/requests', headers, payload });
    expect(res.statusCode).toBe(status);
    const body = res.json();
    expect(body.error.code).toEqual(expect.any(String));
    expect(body.error.message).toEqual(expect.any(String));
  });

  it('stored nothing and published nothing for any of them', async () => {
    await h.settle();
    expect(await h.count('requests')).toBe(0);
    expect(await h.count('timeline')).toBe(0);
    expect(await h.count('outbox')).toBe(0);
    expect(h.published.get('requests.received') ?? []).toEqual([]);
    // The valid base body is accepted, so the cases failed for what they changed.
    expect((await h.post('/v1/requests', valid())).statusCode).toBe(202);
  });
});
