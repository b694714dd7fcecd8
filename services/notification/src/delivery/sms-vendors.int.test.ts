import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildHttpHost } from '@griddispatch/http';
import { loadConfig } from '../config.ts';
import { startFakeAlibabaSms, type FakeAlibabaSms } from '../testing/alibaba-sms.ts';
import { assignedEvent } from '../testing/fixtures.ts';
import { deliveryRows, startHarness, startReplica, type Harness } from '../testing/harness.ts';
import { startFakeTencentSms, type FakeTencentSms } from '../testing/tencent-sms.ts';

// The SMS path end to end on a real PostgreSQL: consumer → delivery row → worker → the vendor's real
// SDK → a local endpoint that checks requests and signatures as the vendor does → the delivery log.

const SCRAPER = 'prometheus-scraper-0123456789';
let h: Harness | undefined;
let vendor: FakeAlibabaSms | FakeTencentSms | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  await h?.close();
  await vendor?.close();
  app = h = vendor = undefined;
});

async function attempts(h: Harness, deliveryId: string): Promise<{ outcome: string; error: string | null }[]> {
  const { rows } = await h.db.pool.query<{ outcome: string; error: string | null }>(
    'SELECT outcome, error FROM notification.delivery_attempts WHERE delivery_id = $1 ORDER BY attempt',
    [deliveryId],
  );
  return rows;
}

describe('SMS vendors through the delivery worker', () => {
  it('without any SMS configuration the crew SMS is written to the log and recorded logged, never delivered', async () => {
    h = await startHarness({ env: { NOTIFY_SMS_URL: '' } });
    expect(h.config.sms).toBeNull();
    await h.deliver(assignedEvent());
    const [sms] = await deliveryRows(h, "channel = 'sms'");
    expect(sms).toMatchObject({ recipient: '+8613800000001', status: 'logged', attempts: 1 });
    expect(await attempts(h, sms!.id)).toEqual([{ outcome: 'logged', error: null }]);
    expect(h.logs.some((l) => l.includes('SMS not sent (no SMS vendor configured'))).toBe(true);
    expect(await deliveryRows(h, "status = 'delivered' AND channel = 'sms'")).toEqual([]);
    // and that is what an operator reads in the delivery log
    app = await buildHttpHost({ pool: h.db.pool, logger: h.logger, services: [h.service], rateLimit: false, apiKeys: `ops:${SCRAPER}:admin` });
    const res = await app.inject({ method: 'GET', url: '/v1/deliveries?status=logged', headers: { authorization: `Bearer ${SCRAPER}` } });
    expect(res.statusCode).toBe(200);
    const items = (res.json() as { items: { channel: string; recipient: string; status: string; history: { outcome: string }[] }[] }).items;
    expect(items.filter((i) => i.channel === 'sms')).toEqual([
      expect.objectContaining({ recipient: '138****0001', status: 'logged', history: [expect.objectContaining({ outcome: 'logged' })] }),
    ]);
  });

  it('Alibaba: the crew SMS goes out with the mapped template, its variables and our delivery id as OutId', async () => {
    const alibaba = await startFakeAlibabaSms({
      keys: { LTAI5tGridDispatch: 's3cret' },
      signNames: ['国网后湖供电所'],
      templates: { SMS_4920001: ['grid', 'deadline'] },
    });
    vendor = alibaba;
    h = await startHarness({
      env: {
        NOTIFY_SMS_URL: '',
        NOTIFY_SMS_VENDOR: 'alibaba',
        NOTIFY_SMS_ACCESS_KEY_ID: 'LTAI5tGridDispatch',
        NOTIFY_SMS_ACCESS_KEY_SECRET: 's3cret',
        NOTIFY_SMS_SIGN_NAME: '国网后湖供电所',
        NOTIFY_SMS_ENDPOINT: alibaba.endpoint,
        NOTIFY_SMS_TEMPLATES: JSON.stringify({ 'dispatch.assigned': { code: 'SMS_4920001', params: ['grid', 'deadline'] } }),
      },
    });
    await h.deliver(assignedEvent());
    const [sms] = await deliveryRows(h, "channel = 'sms'");
    expect(sms).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 200 });
    expect(alibaba.sent).toEqual([
      {
        phone: '13800000001',
        signName: '国网后湖供电所',
        templateCode: 'SMS_4920001',
        params: { grid: '后湖3号网格 台区HH-TQ-017', deadline: '14:32' },
        outId: sms!.id,
      },
    ]);
  });

  it('Tencent with a wrong SecretKey: messages wait (not failed), the channel is held with one probe per interval, the alarm is raised once, and the fixed configuration sends what waited', async () => {
    const tencent = await startFakeTencentSms({
      keys: { AKIDgridDispatch: 'the-secret-key' },
      appId: '1400006666',
      signNames: ['国网后湖供电所'],
      templates: { '2041001': 2 },
    });
    vendor = tencent;
    const env = {
      NOTIFY_SMS_URL: '',
      NOTIFY_SMS_VENDOR: 'tencent',
      NOTIFY_SMS_ACCESS_KEY_ID: 'AKIDgridDispatch',
      NOTIFY_SMS_ACCESS_KEY_SECRET: 'a-mistyped-key',
      NOTIFY_SMS_SIGN_NAME: '国网后湖供电所',
      NOTIFY_SMS_APP_ID: '1400006666',
      NOTIFY_SMS_ENDPOINT: tencent.endpoint,
      NOTIFY_SMS_TEMPLATES: JSON.stringify({ 'dispatch.assigned': { code: '2041001', params: ['grid', 'deadline'] } }),
    };
    h = await startHarness({ env });
    app = await buildHttpHost({ pool: h.db.pool, logger: h.logger, services: [h.service], rateLimit: false, apiKeys: `prometheus:${SCRAPER}:metrics:read` });
    await h.deliver(assignedEvent());
    const [first] = await deliveryRows(h, "channel = 'sms'");
    expect(first).toMatchObject({ status: 'pending', attempts: 1, last_error: expect.stringMatching(/^tencent AuthFailure\.SignatureFailure/) });
    expect(await attempts(h, first!.id)).toEqual([{ outcome: 'disabled', error: expect.stringMatching(/AuthFailure\.SignatureFailure/) }]);
    const metrics = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${SCRAPER}` } });
    expect(metrics.body).toContain('griddispatch_notification_channel_refused{channel="sms"} 1');

    // Two more crews to tell while the channel is held: put off, unsent, no attempt spent.
    await h.deliver(assignedEvent(), assignedEvent());
    expect((await deliveryRows(h, "channel = 'sms' AND attempts = 0")).map((r) => r.status)).toEqual(['pending', 'pending']);
    expect(tencent.refused).toEqual(['AuthFailure.SignatureFailure']);
    // After the probe interval one message (only one) asks the vendor again.
    h.clock.advance(31_000);
    await h.service.tick();
    expect(tencent.refused).toEqual(['AuthFailure.SignatureFailure', 'AuthFailure.SignatureFailure']);
    expect(h.logs.filter((l) => l.includes('sms channel refused by the vendor'))).toHaveLength(1);
    expect(tencent.sent).toEqual([]);

    // The operator fixes the key (a restart with the right NOTIFY_SMS_ACCESS_KEY_SECRET): what waited goes out.
    await h.service.stop();
    const fixed = await startReplica(
      h,
      false,
      loadConfig({ ...env, NOTIFY_SMS_ACCESS_KEY_SECRET: 'the-secret-key', NOTIFY_BACKOFF_BASE_MS: '1000', NOTIFY_MAX_ATTEMPTS: '5' }),
    );
    h.clock.advance(35_000);
    expect(await fixed.service.tick()).toBe(3);
    await fixed.close();
    expect(await deliveryRows(h, "channel = 'sms' AND status = 'delivered'")).toHaveLength(3);
    expect(tencent.sent.map((s) => s.params)).toEqual(Array.from({ length: 3 }, () => ['后湖3号网格 台区HH-TQ-017', '14:32']));
  });
});
