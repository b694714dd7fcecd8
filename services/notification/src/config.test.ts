import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('notification config', () => {
  it('has working defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      timeZone: 'Asia/Shanghai',
      locale: 'zh-CN',
      retry: { maxAttempts: 12, baseDelayMs: 5000, maxDelayMs: 3_600_000 },
      rates: { wecom: { tokens: 20, perMs: 60_000 }, log: null },
      sms: null,
      operatorDesk: { wecomUrl: null, phones: [] },
    });
  });

  it('reads channel settings', () => {
    const c = loadConfig({
      GD_LOCALE: 'en',
      NOTIFY_SMS_URL: 'http://127.0.0.1:9000/sms',
      NOTIFY_SMS_AUTH_HEADER: 'Authorization: Bearer abc',
      NOTIFY_SMS_TEMPLATES: '{"sla.breached":"SMS_77"}',
      NOTIFY_WECOM_ROBOTS: '{"HH-G03":"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}',
      NOTIFY_OPERATOR_PHONES: '13800000001, 13800000002',
      NOTIFY_RATE_SMS: '5/s',
    });
    expect(c.sms).toEqual({ vendor: 'gateway', url: 'http://127.0.0.1:9000/sms', authHeader: { name: 'authorization', value: 'Bearer abc' } });
    expect(c.smsTemplates).toEqual({ 'sla.breached': { code: 'SMS_77', params: null } });
    expect(c.wecomRobots['HH-G03']).toMatch(/^https:\/\/qyapi/);
    expect(c.operatorDesk.phones).toEqual(['13800000001', '13800000002']);
    expect(c.rates.sms).toEqual({ tokens: 5, perMs: 1000 });
  });

  it('reads the webhook isolation and target settings (issue 17)', () => {
    expect(loadConfig({}).webhook).toEqual({ concurrency: 32, perSubscription: 2, disableAfterMs: 86_400_000, maxPerKey: 20, allowPrivate: false });
    expect(loadConfig({}).piiHashKey).toBeNull();
    const c = loadConfig({
      NOTIFY_WEBHOOK_CONCURRENCY: '8',
      NOTIFY_WEBHOOK_PER_SUBSCRIPTION: '1',
      NOTIFY_WEBHOOK_DISABLE_AFTER: '12h',
      NOTIFY_MAX_SUBSCRIPTIONS_PER_KEY: '5',
      NOTIFY_WEBHOOK_ALLOW_PRIVATE: '1',
      NOTIFY_PII_HASH_KEY: 'a-long-enough-secret-key',
    });
    expect(c.webhook).toEqual({ concurrency: 8, perSubscription: 1, disableAfterMs: 43_200_000, maxPerKey: 5, allowPrivate: true });
    expect(c.piiHashKey).toBe('a-long-enough-secret-key');
    // The durations every service reads (parseDuration): parts add up; a unit below the second is not one.
    expect(loadConfig({ NOTIFY_ACK_CODE_TTL: '3h45m' }).replies.ackCodeTtlMs).toBe(13_500_000);
    expect(() => loadConfig({ NOTIFY_ACK_CODE_TTL: '500ms' })).toThrow(/NOTIFY_ACK_CODE_TTL: invalid duration/);
    expect(() => loadConfig({ NOTIFY_WEBHOOK_DISABLE_AFTER: 'a day', NOTIFY_WEBHOOK_ALLOW_PRIVATE: 'yes', NOTIFY_PII_HASH_KEY: 'short' })).toThrow(
      /NOTIFY_WEBHOOK_DISABLE_AFTER[\s\S]*NOTIFY_WEBHOOK_ALLOW_PRIVATE[\s\S]*NOTIFY_PII_HASH_KEY/,
    );
  });

  it('names every invalid variable', () => {
    expect(() => loadConfig({ GD_TIME_ZONE: 'Mars/Olympus', NOTIFY_RATE_WECOM: 'fast', NOTIFY_WECOM_ROBOTS: '{' })).toThrow(
      /GD_TIME_ZONE[\s\S]*NOTIFY_RATE_WECOM[\s\S]*NOTIFY_WECOM_ROBOTS/,
    );
  });
});
