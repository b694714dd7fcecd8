import { randomBytes } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEvent, serializeEvent } from '@griddispatch/contracts';
import { assignedEvent } from '../testing/fixtures.ts';
import { startReceiver, type Receiver } from '../testing/receiver.ts';
import { createRedactor } from './personal-data.ts';
import type { SendRequest } from './types.ts';
import { createWebhookChannel, webhookErrorWord } from './webhook.ts';
import { checkTarget, type Resolver, type TargetPolicy } from './webhook-target.ts';

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const redactor = createRedactor('test-hash-key-0123456789');
const names: Record<string, string[]> = {};
/** A resolver the test scripts: each name answers its list (the next call may answer differently). */
const fakeResolver: Resolver = async (host) => {
  const answer = names[host];
  if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return answer.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
};
const open: TargetPolicy = { allowPrivate: true, resolve: fakeResolver };
const strict: TargetPolicy = { allowPrivate: false, resolve: fakeResolver };
const channel = createWebhookChannel({ timeoutMs: 500, target: open, redactor });
const guarded = createWebhookChannel({ timeoutMs: 500, target: strict, redactor });
let receiver: Receiver;

afterEach(async () => receiver?.close());

function request(url: string, piiRead = true): SendRequest {
  const event = assignedEvent();
  return {
    deliveryId: 'd-1',
    recipient: 'sub-1',
    payload: { channel: 'webhook', eventId: event.id, body: serializeEvent(event) },
    webhook: { url, secret, piiRead },
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

  it('signs the redacted body for a subscriber without pii:read', async () => {
    receiver = await startReceiver();
    await channel.send(request(receiver.url, false));
    const got = receiver.received[0]!;
    expect(() => new Webhook(secret).verify(got.body, got.headers)).not.toThrow();
    expect(got.body).not.toContain('张伟');
    expect(got.body).not.toContain('13800000001');
    expect(got.body).toContain('张*');
  });

  it('classifies the receiver answers in its own words, never the receiver page', async () => {
    receiver = await startReceiver();
    receiver.respond(() => ({ status: 503, body: '{"error":"maintenance"}' }));
    expect(await channel.send(request(receiver.url))).toEqual({ kind: 'retry', statusCode: 503, error: 'http_503' });
    receiver.respond(() => ({ status: 429, headers: { 'retry-after': '3' } }));
    expect(await channel.send(request(receiver.url))).toMatchObject({ kind: 'retry', statusCode: 429, retryAfterMs: 3000 });
    receiver.respond(() => ({ status: 410 }));
    expect(await channel.send(request(receiver.url))).toMatchObject({ kind: 'gone', statusCode: 410 });
    receiver.respond(() => ({ status: 400, body: 'root:x:0:0:root:/root:/bin/bash' }));
    expect(await channel.send(request(receiver.url))).toEqual({ kind: 'permanent', statusCode: 400, error: 'http_400' });
    receiver.respond(() => ({ status: 302, headers: { location: 'http://example.invalid/' } }));
    expect(await channel.send(request(receiver.url))).toMatchObject({ kind: 'permanent', statusCode: 302, error: 'http_302' });
  });

  it('retries a receiver that does not answer in time, or is not there', async () => {
    receiver = await startReceiver(() => new Promise((r) => setTimeout(() => r({ status: 200 }), 2000)));
    expect(await channel.send(request(receiver.url))).toEqual({ kind: 'retry', statusCode: null, error: 'timeout' });
    const url = receiver.url;
    await receiver.close();
    expect(await channel.send(request(url))).toEqual({ kind: 'retry', statusCode: null, error: 'connection_failed' });
    expect(await channel.send(request('http://nowhere.test/hook'))).toEqual({ kind: 'retry', statusCode: null, error: 'dns_failed' });
  });
});

describe('webhook targets (hostile integrator)', () => {
  // Each of these would reach our own network. The receiver listens on 127.0.0.1, so a check
  // that let loopback through would show up as a request it received.
  const literals = [
    '127.0.0.1',
    '127.1.2.3',
    '0.0.0.0',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '[::1]',
    '[::]',
    '[fc00::1]',
    '[fd12:3456::1]',
    '[fe80::1]',
    '[ff02::1]',
    '[::ffff:127.0.0.1]',
    '[::ffff:a9fe:a9fe]',
    '[64:ff9b::a00:1]',
    '[2002:7f00:1::1]',
    '[::127.0.0.1]',
  ];

  it.each(literals)('refuses %s at registration and at send', async (host) => {
    receiver = await startReceiver();
    const port = new URL(receiver.url).port;
    const url = `http://${host}:${port}/hook`;
    await expect(checkTarget(url, strict)).rejects.toMatchObject({ name: 'RefusedAddressError' });
    expect(await guarded.send(request(url))).toEqual({ kind: 'permanent', statusCode: null, error: 'refused_address' });
    expect(receiver.received).toHaveLength(0);
  });

  it('refuses a name that resolves to a private address, or to a public and a private one', async () => {
    receiver = await startReceiver();
    const port = new URL(receiver.url).port;
    names['internal.integrator.test'] = ['127.0.0.1'];
    names['metadata.integrator.test'] = ['169.254.169.254'];
    names['mixed.integrator.test'] = ['203.0.113.10', '10.0.0.7'];
    names['six.integrator.test'] = ['fd00::7'];
    for (const host of Object.keys(names)) {
      const url = `http://${host}:${port}/hook`;
      await expect(checkTarget(url, strict)).rejects.toMatchObject({ name: 'RefusedAddressError' });
      expect(await guarded.send(request(url))).toEqual({ kind: 'permanent', statusCode: null, error: 'refused_address' });
    }
    expect(receiver.received).toHaveLength(0);
  });

  it('refuses a name that answers publicly at registration and privately at send (DNS rebinding)', async () => {
    receiver = await startReceiver();
    const url = `http://rebind.integrator.test:${new URL(receiver.url).port}/hook`;
    names['rebind.integrator.test'] = ['203.0.113.10'];
    await expect(checkTarget(url, strict)).resolves.toBeUndefined();
    names['rebind.integrator.test'] = ['127.0.0.1'];
    expect(await guarded.send(request(url))).toEqual({ kind: 'permanent', statusCode: null, error: 'refused_address' });
    expect(receiver.received).toHaveLength(0);
  });

  it('connects to the address the lookup checked, not one the system resolver picks', async () => {
    receiver = await startReceiver();
    // `pinned.integrator.test` exists only in the injected resolver: a delivery that arrives came
    // through the checked lookup.
    names['pinned.integrator.test'] = ['127.0.0.1'];
    const url = `http://pinned.integrator.test:${new URL(receiver.url).port}/hook`;
    expect(await channel.send(request(url))).toEqual({ kind: 'delivered', statusCode: 200 });
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.headers.host).toBe(`pinned.integrator.test:${new URL(receiver.url).port}`);
  });

  it('lets public addresses through', async () => {
    names['public.integrator.test'] = ['203.0.113.10', '2001:db8::10'];
    await expect(checkTarget('https://public.integrator.test/hook', strict)).resolves.toBeUndefined();
    await expect(checkTarget('https://93.184.216.34/hook', strict)).resolves.toBeUndefined();
  });
});

describe('webhookErrorWord', () => {
  it('shows rows written before issue 17 in our words, never the receiver text', () => {
    expect(webhookErrorWord('HTTP 500: <html>internal admin console</html>')).toBe('http_500');
    expect(webhookErrorWord('HTTP 410 Gone')).toBe('http_410');
    expect(webhookErrorWord('network error: ECONNREFUSED')).toBe('connection_failed');
    expect(webhookErrorWord('http_503')).toBe('http_503');
    expect(webhookErrorWord('refused_address')).toBe('refused_address');
    expect(webhookErrorWord('subscription disabled: no delivery succeeded since 2026-11-23T06:02:00.000Z')).toMatch(/^subscription disabled/);
    expect(webhookErrorWord(null)).toBeNull();
  });
});
