import { afterEach, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../testing/receiver.ts';
import { createSmsGatewayChannel } from './sms-gateway.ts';
import type { SendRequest } from './types.ts';

let gateway: Receiver;
afterEach(async () => gateway?.close());

const sms = (recipient: string): SendRequest => ({
  deliveryId: 'd',
  recipient,
  payload: { channel: 'sms', templateId: 'dispatch.assigned', params: { grid: '后湖3号网格' }, text: '【抢修派单】后湖3号网格…' },
  now: new Date(),
});

describe('SMS gateway channel', () => {
  it('posts the normalised number, message kind, its mapped template id, params and text with the auth header', async () => {
    gateway = await startReceiver(() => ({ status: 202, body: '{"messageId":"m1"}' }));
    const channel = createSmsGatewayChannel({
      url: gateway.url,
      authHeader: { name: 'x-api-key', value: 'k-1' },
      timeoutMs: 1000,
      templates: { 'dispatch.assigned': { code: 'SMS_0042', params: null } },
    });
    expect(await channel.send(sms('138 0013 8000'))).toEqual({ kind: 'delivered', statusCode: 202 });
    const [got] = gateway.received;
    expect(got?.headers['x-api-key']).toBe('k-1');
    // The delivery id, the same on every retry: a gateway that honours it sends the message once.
    expect(got?.headers['idempotency-key']).toBe('d');
    expect(JSON.parse(got!.body)).toEqual({
      to: '+8613800138000',
      kind: 'dispatch.assigned',
      templateId: 'SMS_0042',
      params: { grid: '后湖3号网格' },
      text: '【抢修派单】后湖3号网格…',
    });
  });

  it('sends null for an unmapped kind, and a row recorded before kinds existed with the template id it carries', async () => {
    gateway = await startReceiver(() => ({ status: 202 }));
    const channel = createSmsGatewayChannel({ url: gateway.url, timeoutMs: 1000, templates: {} });
    const unmapped = sms('13800138000');
    await channel.send(unmapped);
    await channel.send({ ...unmapped, payload: { ...unmapped.payload, channel: 'sms', templateId: 'SMS_1001', params: {}, text: 't' } });
    expect(gateway.received.map((r) => (JSON.parse(r.body) as { templateId: string | null }).templateId)).toEqual([null, 'SMS_1001']);
  });

  it('fails an invalid number for good without calling the gateway', async () => {
    gateway = await startReceiver();
    const channel = createSmsGatewayChannel({ url: gateway.url, timeoutMs: 1000, templates: {} });
    expect(await channel.send(sms('027-87654321'))).toMatchObject({ kind: 'permanent', statusCode: null });
    expect(gateway.received).toHaveLength(0);
  });

  it('retries gateway outages and throttling, not rejected requests', async () => {
    gateway = await startReceiver(() => ({ status: 500 }));
    const channel = createSmsGatewayChannel({ url: gateway.url, timeoutMs: 1000, templates: {} });
    expect(await channel.send(sms('13800138000'))).toMatchObject({ kind: 'retry', statusCode: 500 });
    gateway.respond(() => ({ status: 429, headers: { 'retry-after': '2' } }));
    expect(await channel.send(sms('13800138000'))).toMatchObject({ kind: 'retry', retryAfterMs: 2000 });
    gateway.respond(() => ({ status: 422, body: '{"error":"template not approved"}' }));
    expect(await channel.send(sms('13800138000'))).toEqual({
      kind: 'permanent',
      statusCode: 422,
      error: 'HTTP 422: {"error":"template not approved"}',
    });
    gateway.respond(() => ({ status: 410 }));
    expect(await channel.send(sms('13800138000'))).toMatchObject({ kind: 'permanent', statusCode: 410 });
  });
});
