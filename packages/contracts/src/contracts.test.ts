import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CreateRequestBody,
  EventTypeName,
  EventTypes,
  InvalidEventError,
  buildEvent,
  eventJsonSchemas,
  parseEvent,
  serializeEvent,
  type RequestReceivedV1,
} from './index.ts';

const received: RequestReceivedV1 = {
  id: 'req-1',
  source: '95598',
  externalId: 'GD2026112300001',
  category: 'fault_repair',
  receivedAt: '2026-11-23T06:00:00.000Z',
  urgency: 'urgent',
  customer: { accountNo: '3300012345', classes: ['aquaculture'] },
  location: { districtCode: 'HH-TQ-017' },
};

describe('CloudEvents envelope', () => {
  it('round-trips an event through its wire form', () => {
    const event = buildEvent({ type: EventTypeName.requestReceived, source: 'intake', subject: 'req-1', data: received });
    const parsed = parseEvent(Buffer.from(serializeEvent(event)));
    expect(parsed).toEqual(event);
    expect(parsed).toMatchObject({ specversion: '1.0', source: '/griddispatch/intake', datacontenttype: 'application/json' });
  });

  it('refuses to build an event whose data breaks its schema', () => {
    expect(() =>
      buildEvent({ type: EventTypeName.requestReceived, source: 'intake', subject: 'x', data: { ...received, category: 'nope' as never } }),
    ).toThrow();
  });

  it.each([
    ['not JSON', '{"specversion":'],
    ['no envelope', '{"hello":"world"}'],
    [
      'unknown type',
      JSON.stringify({ ...buildEvent({ type: EventTypeName.requestReceived, source: 'intake', subject: 's', data: received }), type: 'cn.other.v1' }),
    ],
    ['bad data', JSON.stringify({ ...buildEvent({ type: EventTypeName.requestReceived, source: 'intake', subject: 's', data: received }), data: { id: 1 } })],
  ])('rejects %s with InvalidEventError', (_name, value) => {
    expect(() => parseEvent(value)).toThrow(InvalidEventError);
  });

  it('rejects an empty record', () => {
    expect(() => parseEvent(null)).toThrow(InvalidEventError);
  });
});

describe('CreateRequestBody', () => {
  const base = { source: '95598', externalId: 'A1', category: 'fault_repair' };

  it('accepts each way of locating a customer', () => {
    for (const extra of [
      { customer: { accountNo: '3300012345' }, location: {} },
      { location: { districtCode: 'HH-TQ-001' } },
      { location: { communityCode: '421223100001' } },
      { location: { lon: 114.2, lat: 30.6 } },
    ]) {
      expect(CreateRequestBody.safeParse({ ...base, ...extra }).success).toBe(true);
    }
  });

  it('names the field when the customer cannot be located', () => {
    const result = CreateRequestBody.safeParse({ ...base, location: { address: '某村' } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['location']);
  });

  it('rejects half a coordinate, out-of-range coordinates and unknown fields', () => {
    expect(CreateRequestBody.safeParse({ ...base, location: { lon: 114.2 } }).success).toBe(false);
    expect(CreateRequestBody.safeParse({ ...base, location: { lon: 181, lat: 30 } }).success).toBe(false);
    expect(CreateRequestBody.safeParse({ ...base, location: { districtCode: 'X' }, extra: 1 }).success).toBe(false);
  });
});

describe('JSON Schema export', () => {
  it('has a schema for every event type, equal to the checked-in file (regenerate with `pnpm contracts:generate`)', () => {
    const schemas = eventJsonSchemas();
    expect(Object.keys(schemas).sort()).toEqual(Object.keys(EventTypes).sort());
    for (const [type, schema] of Object.entries(schemas)) {
      const file = JSON.parse(readFileSync(new URL(`../schemas/${type}.json`, import.meta.url), 'utf8'));
      expect(file).toEqual(schema);
    }
  });
});
