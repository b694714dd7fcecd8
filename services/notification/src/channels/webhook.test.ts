import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEvent, serializeEvent } from '@griddispatch/contracts';
import { assignedEvent } from '../testing/fixtures.ts';
import { startReceiver, type Receiver } from '../testing/receiver.ts';
import type { SendRequest } from './types.ts';
import { createWebhookChannel } from './webhook.ts';

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const channel = createWebhookChannel({ timeoutMs: 500 });
let receiver: Receiver;

afterEach(async () => receiver?.close());

function request(url: string): SendRequest {
  const event = assignedEvent();
  return {
    deliveryId: 'd-1',
    recipient: 'sub-1',
    payload: { channel: 'webhook', eventId: event.id, body: serializeEvent(event) },
    webhook: { url, secret },
    now: new Date(),
  };
}

describe('webhook channel', () => {
  it('posts the CloudEvent signed so the standardwebhooks library verifies it', async () => {
    receiver = await startReceiver();
    const req = request(receiver.url);
    expect(await channel.send(req)).toEqual({ kind: 'delivered', statusCode: 200 });
    const [got] = receiver.received;
    expect(got?.headers['webhook-id']).toBe(req.payload.channel === 'webhook' && req.payload.eventId);
    expect(got?.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
    const verified = new Webhook(secret).verify(got!.body, got!.headers);
    expect(parseEvent(JSON.stringify(verified)).type).toBe('cn.griddispatch.dispatch.assigned.v1');
    expect(() => new Webhook(`whsec_${randomBytes(24).toString('base64')}`).verify(got!.body, got!.headers)).toThrow();
  });

  it('classifies the receiver answers', async () => {
    receiver = await startReceiver();
    receiver.respond(() => ({ status: 503, body: '{"error":"maintenance"}' }));
    expect(await channel.send(request(receiver.url))).toEqual({ kind: 'retry', statusCode: 503, error: 'HTTP 503: {"error":"maintenance"}' });
    receiver.respond(() => ({ status: 429, headers: { 'retry-after': '3' } }));
    expect(await channel.send(request(receiver.url))).toMatchObject({ kind: 'retry', statusCode: 429, retryAfterMs: 3000 });
    receiver.respond(() => ({ status: 410 }));
    expect(await channel.send(request(receiver.url))).toMatchObject({ kind: 'gone', statusCode: 410 });
    receiver.respond(() => ({ status: 400, body: 'bad' }));
    expect(await channel.send(request(receiver.url))).toEqual({ kind: 'permanent', statusCode: 400, error: 'HTTP 400: bad' });
    receiver.respond(() => ({ status: 302, headers: { location: 'http://example.invalid/' } }));
    expect(await channel.send(request(receiver.url))).toMatchObject({ kind: 'permanent', statusCode: 302 });
  });

  it('retries a receiver that does not answer in time, or is not there', async () => {
    receiver = await startReceiver(() => new Promise((r) => setTimeout(() => r({ status: 200 }), 2000)));
    expect(await channel.send(request(receiver.url))).toEqual({ kind: 'retry', statusCode: null, error: 'timeout' });
    const url = receiver.url;
    await receiver.close();
    expect(await channel.send(request(url))).toMatchObject({ kind: 'retry', statusCode: null, error: expect.stringMatching(/network error/) });
  });
});
