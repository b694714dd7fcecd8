import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeTencentSms, type FakeTencentSms } from '../testing/tencent-sms.ts';
import { classifyTencent, createTencentSmsChannel, type TencentSmsOptions } from './sms-tencent.ts';
import type { SendRequest } from './types.ts';

// The real SDK (tencentcloud-sdk-nodejs-sms) against a local endpoint that checks the request and the
// TC3-HMAC-SHA256 signature as the vendor does (testing/tencent-sms.ts).

let vendor: FakeTencentSms;
beforeEach(async () => {
  vendor = await startFakeTencentSms({
    keys: { AKIDgridDispatch: 'the-secret-key' },
    appId: '1400006666',
    signNames: ['国网后湖供电所'],
    templates: { '2041001': 3, '2041002': 2 },
  });
});
afterEach(async () => vendor.close());

const options = (over: Partial<TencentSmsOptions> = {}): TencentSmsOptions => ({
  secretId: 'AKIDgridDispatch',
  secretKey: 'the-secret-key',
  appId: '1400006666',
  signName: '国网后湖供电所',
  region: 'ap-guangzhou',
  endpoint: vendor.endpoint,
  templates: {
    'dispatch.assigned': { code: '2041001', params: ['grid', 'matter', 'deadline'] },
    // the approved template has 2 parameters; this mapping lists 3
    'sla.breached': { code: '2041002', params: ['grid', 'workOrder', 'lateness'] },
  },
  timeoutMs: 1_000,
  ...over,
});

const dispatch = (recipient: string, kind = 'dispatch.assigned'): SendRequest => ({
  deliveryId: '0b6f2c1e-delivery',
  recipient,
  payload: {
    channel: 'sms',
    templateId: kind,
    params: { grid: '后湖3号网格 台区HH-TQ-017', matter: '养殖户停电', deadline: '14:32', workOrder: '0A1B2C3D', lateness: '5分钟' },
    text: '【抢修派单】后湖3号网格 台区HH-TQ-017 养殖户停电，请30分钟内到达（截止14:32）',
  },
  now: new Date(),
});

describe('Tencent Cloud SMS channel', () => {
  it('sends the template with its parameters in order, the app, the sign and our delivery id; the vendor verifies the signature', async () => {
    expect(await createTencentSmsChannel(options()).send(dispatch('0086 13800138000'))).toEqual({ kind: 'delivered', statusCode: 200 });
    expect(vendor.sent).toEqual([
      {
        phone: '+8613800138000',
        appId: '1400006666',
        signName: '国网后湖供电所',
        templateId: '2041001',
        params: ['后湖3号网格 台区HH-TQ-017', '养殖户停电', '14:32'],
        sessionContext: '0b6f2c1e-delivery',
      },
    ]);
  });

  it("retries a frequency limit in the number's send status, then delivers", async () => {
    vendor.throttle(1);
    const channel = createTencentSmsChannel(options());
    expect(await channel.send(dispatch('13800138000'))).toMatchObject({
      kind: 'retry',
      error: expect.stringMatching(/^tencent LimitExceeded\.PhoneNumberThirtySecondLimit/),
    });
    expect(await channel.send(dispatch('13800138000'))).toMatchObject({ kind: 'delivered' });
    expect(vendor.sent).toHaveLength(1);
  });

  it('fails a number the vendor refuses for good (InvalidParameterValue.IncorrectPhoneNumber)', async () => {
    expect(await createTencentSmsChannel(options()).send(dispatch('15400138000'))).toMatchObject({
      kind: 'permanent',
      error: expect.stringMatching(/^tencent InvalidParameterValue\.IncorrectPhoneNumber/),
    });
    expect(vendor.sent).toEqual([]);
  });

  it('a wrong SecretKey is refused by the vendor (AuthFailure.SignatureFailure), and that disables the channel', async () => {
    expect(await createTencentSmsChannel(options({ secretKey: 'a-rotated-key' })).send(dispatch('13800138000'))).toMatchObject({
      kind: 'disabled',
      error: expect.stringMatching(/^tencent AuthFailure\.SignatureFailure/),
    });
    expect(await createTencentSmsChannel(options({ secretId: 'AKIDdeleted' })).send(dispatch('13800138000'))).toMatchObject({
      kind: 'disabled',
      error: expect.stringMatching(/AuthFailure\.SecretIdNotFound/),
    });
    expect(vendor.refused).toEqual(['AuthFailure.SignatureFailure', 'AuthFailure.SecretIdNotFound']);
    expect(vendor.sent).toEqual([]);
  });

  it('an unapproved signature or an unknown app disables the channel; a parameter list that does not fit the template, its kind', async () => {
    expect(await createTencentSmsChannel(options({ signName: '后湖所' })).send(dispatch('13800138000'))).toMatchObject({
      kind: 'disabled',
      scope: 'channel',
      error: expect.stringMatching(/SignatureIncorrectOrUnapproved/),
    });
    expect(await createTencentSmsChannel(options({ appId: '1400000001' })).send(dispatch('13800138000'))).toMatchObject({
      kind: 'disabled',
      error: expect.stringMatching(/SdkAppIdNotExist/),
    });
    expect(await createTencentSmsChannel(options()).send(dispatch('13800138000', 'sla.breached'))).toMatchObject({
      kind: 'disabled',
      scope: 'template',
      error: expect.stringMatching(/TemplateParamSetNotMatchApprovedTemplate/),
    });
  });

  it('a kind without a mapping fails for good, unsent', async () => {
    expect(await createTencentSmsChannel(options()).send(dispatch('13800138000', 'incident.opened'))).toEqual({
      kind: 'permanent',
      statusCode: null,
      error: 'template_unmapped: no NOTIFY_SMS_TEMPLATES entry for incident.opened',
    });
    expect(vendor.refused).toEqual([]);
  });

  it('retries a vendor that does not answer within the timeout', async () => {
    vendor.stall(2_500);
    expect(await createTencentSmsChannel(options({ timeoutMs: 1_000 })).send(dispatch('13800138000'))).toEqual({
      kind: 'retry',
      statusCode: null,
      error: 'timeout',
    });
    await vendor.close();
    expect(await createTencentSmsChannel(options()).send(dispatch('13800138000'))).toEqual({
      kind: 'retry',
      statusCode: null,
      error: 'network error: ECONNREFUSED',
    });
  });

  it('sorts the documented codes', () => {
    expect(classifyTencent('LimitExceeded.PhoneNumberDailyLimit', '', 200).kind).toBe('retry');
    expect(classifyTencent('LimitExceeded.PhoneNumberCountLimit', '', 200).kind).toBe('permanent');
    expect(classifyTencent('RequestLimitExceeded', '', 200).kind).toBe('retry');
    expect(classifyTencent('InternalError.Timeout', '', 200).kind).toBe('retry');
    expect(classifyTencent('InternalError.RequestTimeException', '', 200).kind).toBe('disabled');
    expect(classifyTencent('FailedOperation.InsufficientBalanceInSmsPackage', '', 200).kind).toBe('disabled');
    expect(classifyTencent('UnauthorizedOperation.SmsSdkAppIdVerifyFail', '', 200).kind).toBe('disabled');
    expect(classifyTencent('FailedOperation.PhoneNumberInBlacklist', '', 200).kind).toBe('permanent');
    expect(classifyTencent('FailedOperation.ContainSensitiveWord', '', 200).kind).toBe('permanent');
    expect(classifyTencent('InvalidParameterValue.TemplateParameterLengthLimit', '', 200).kind).toBe('permanent');
  });
});
