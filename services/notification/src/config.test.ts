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
    expect(c.sms).toEqual({ url: 'http://127.0.0.1:9000/sms', authHeader: { name: 'authorization', value: 'Bearer abc' } });
    expect(c.smsTemplates).toEqual({ 'sla.breached': 'SMS_77' });
    expect(c.wecomRobots['HH-G03']).toMatch(/^https:\/\/qyapi/);
    expect(c.operatorDesk.phones).toEqual(['13800000001', '13800000002']);
    expect(c.rates.sms).toEqual({ tokens: 5, perMs: 1000 });
  });

  it('names every invalid variable', () => {
    expect(() => loadConfig({ GD_TIME_ZONE: 'Mars/Olympus', NOTIFY_RATE_WECOM: 'fast', NOTIFY_WECOM_ROBOTS: '{' })).toThrow(
      /GD_TIME_ZONE[\s\S]*NOTIFY_RATE_WECOM[\s\S]*NOTIFY_WECOM_ROBOTS/,
    );
  });
});
