import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

const alibaba = {
  NOTIFY_SMS_VENDOR: 'alibaba',
  NOTIFY_SMS_ACCESS_KEY_ID: 'LTAI5tGridDispatch',
  NOTIFY_SMS_ACCESS_KEY_SECRET: 'secret',
  NOTIFY_SMS_SIGN_NAME: '国网后湖供电所',
};
const tencent = { ...alibaba, NOTIFY_SMS_VENDOR: 'tencent', NOTIFY_SMS_APP_ID: '1400006666' };

describe('SMS vendor configuration', () => {
  it('without any SMS setting, SMS go to the log', () => {
    expect(loadConfig({}).sms).toBeNull();
  });

  it('reads Alibaba: credentials, sign, the public endpoint by default, templates with and without a parameter list', () => {
    const c = loadConfig({
      ...alibaba,
      NOTIFY_SMS_TEMPLATES: '{"dispatch.assigned":{"code":"SMS_4920001","params":["grid","deadline"]},"sla.breached":"SMS_4920002"}',
    });
    expect(c.sms).toEqual({
      vendor: 'alibaba',
      accessKeyId: 'LTAI5tGridDispatch',
      accessKeySecret: 'secret',
      signName: '国网后湖供电所',
      endpoint: 'https://dysmsapi.aliyuncs.com',
    });
    expect(c.smsTemplates).toEqual({
      'dispatch.assigned': { code: 'SMS_4920001', params: ['grid', 'deadline'] },
      'sla.breached': { code: 'SMS_4920002', params: null },
    });
  });

  it('reads Tencent with the templates from a file, a region and a local endpoint', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gd-sms-')), 'templates.json');
    writeFileSync(file, JSON.stringify({ 'dispatch.assigned': { code: '2041001', params: ['grid', 'matter', 'deadline'] } }));
    const c = loadConfig({ ...tencent, NOTIFY_SMS_TEMPLATES: file, NOTIFY_SMS_REGION: 'ap-beijing', NOTIFY_SMS_ENDPOINT: 'http://127.0.0.1:9100' });
    expect(c.sms).toEqual({
      vendor: 'tencent',
      secretId: 'LTAI5tGridDispatch',
      secretKey: 'secret',
      appId: '1400006666',
      signName: '国网后湖供电所',
      region: 'ap-beijing',
      endpoint: 'http://127.0.0.1:9100',
    });
    expect(c.smsTemplates['dispatch.assigned']).toEqual({ code: '2041001', params: ['grid', 'matter', 'deadline'] });
    // customers' messages map like staff ones (their kinds and parameters: templates/customer.ts)
    const customers = loadConfig({ ...tencent, NOTIFY_SMS_TEMPLATES: '{"outage.detected":{"code":"2041101","params":["area","account","etr"]}}' });
    expect(customers.smsTemplates['outage.detected']).toEqual({ code: '2041101', params: ['area', 'account', 'etr'] });
    // a template without variables: an empty list
    expect(loadConfig({ ...tencent, NOTIFY_SMS_TEMPLATES: '{"workorder.updated":{"code":"2041009","params":[]}}' }).smsTemplates['workorder.updated']).toEqual({
      code: '2041009',
      params: [],
    });
  });

  it('names each missing setting of the chosen vendor', () => {
    expect(() => loadConfig({ NOTIFY_SMS_VENDOR: 'tencent' })).toThrow(
      /NOTIFY_SMS_ACCESS_KEY_ID: required when NOTIFY_SMS_VENDOR=tencent[\s\S]*NOTIFY_SMS_ACCESS_KEY_SECRET[\s\S]*NOTIFY_SMS_SIGN_NAME[\s\S]*NOTIFY_SMS_APP_ID/,
    );
    expect(() => loadConfig({ NOTIFY_SMS_VENDOR: 'gateway' })).toThrow(/NOTIFY_SMS_URL: required when NOTIFY_SMS_VENDOR=gateway/);
    expect(() => loadConfig({ ...alibaba, NOTIFY_SMS_URL: 'http://127.0.0.1:9000/sms' })).toThrow(
      /NOTIFY_SMS_URL: is the generic gateway's; with NOTIFY_SMS_VENDOR=alibaba use NOTIFY_SMS_ENDPOINT/,
    );
    expect(() => loadConfig({ NOTIFY_SMS_VENDOR: 'aliyun' })).toThrow(/NOTIFY_SMS_VENDOR/);
  });

  it('refuses a mapping for an unknown kind, an unknown parameter, a Tencent mapping without its order, an unreadable file', () => {
    expect(() => loadConfig({ ...alibaba, NOTIFY_SMS_TEMPLATES: '{"dispatch.asigned":"SMS_1"}' })).toThrow(
      /NOTIFY_SMS_TEMPLATES: unknown message kind "dispatch.asigned" \(known: dispatch.assigned/,
    );
    expect(() => loadConfig({ ...alibaba, NOTIFY_SMS_TEMPLATES: '{"sla.warning":{"code":"SMS_1","params":["grid","eta"]}}' })).toThrow(
      /sla.warning: no parameter eta \(it has grid, workOrder/,
    );
    expect(() => loadConfig({ ...tencent, NOTIFY_SMS_TEMPLATES: '{"sla.breached":"2041002"}' })).toThrow(
      /NOTIFY_SMS_TEMPLATES: sla.breached: Tencent fills \{1\}, \{2\}… in order, so the mapping needs "params"/,
    );
    expect(() => loadConfig({ ...alibaba, NOTIFY_SMS_TEMPLATES: '/nonexistent/templates.json' })).toThrow(
      /NOTIFY_SMS_TEMPLATES: neither JSON nor a readable file: ENOENT/,
    );
    expect(() => loadConfig({ ...alibaba, NOTIFY_SMS_TEMPLATES: '{"sla.breached":{"code":"SMS_1","param":["grid"]}}' })).toThrow(/NOTIFY_SMS_TEMPLATES/);
  });
});
