import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAlibabaSms, type FakeAlibabaSms } from '../testing/alibaba-sms.ts';
import { classifyAlibaba, createAlibabaSmsChannel, type AlibabaSmsOptions } from './sms-alibaba.ts';
import type { SendRequest } from './types.ts';

// The real SDK (@alicloud/dysmsapi20170525) against a local endpoint that checks the request and the
// ACS3-HMAC-SHA256 signature as the vendor does (testing/alibaba-sms.ts).

let vendor: FakeAlibabaSms;
beforeEach(async () => {
  vendor = await startFakeAlibabaSms({
    keys: { LTAI5tGridDispatch: 'the-access-key-secret' },
    signNames: ['国网后湖供电所'],
    templates: { SMS_4920001: ['grid', 'matter', 'deadline'], SMS_4920002: ['grid', 'workOrder', 'lateness'] },
  });
});
afterEach(async () => vendor.close());

const options = (over: Partial<AlibabaSmsOptions> = {}): AlibabaSmsOptions => ({
  accessKeyId: 'LTAI5tGridDispatch',
  accessKeySecret: 'the-access-key-secret',
  signName: '国网后湖供电所',
  endpoint: vendor.endpoint,
  templates: {
    'dispatch.assigned': { code: 'SMS_4920001', params: ['grid', 'matter', 'deadline'] },
    'sla.breached': { code: 'SMS_4920099', params: ['grid'] },
  },
  timeoutMs: 1_000,
  ...over,
});

const dispatch = (recipient: string, kind: string | null = 'dispatch.assigned'): SendRequest => ({
  deliveryId: '0b6f2c1e-delivery',
  recipient,
  payload: {
    channel: 'sms',
    templateId: kind,
    params: {
      title: '【抢修派单】',
      grid: '后湖3号网格 台区HH-TQ-017',
      matter: '养殖户停电',
      window: '30分钟',
      action: '到达',
      deadline: '14:32',
      workOrder: '0A1B2C3D',
    },
    text: '【抢修派单】后湖3号网格 台区HH-TQ-017 养殖户停电，请30分钟内到达（截止14:32）',
  },
  now: new Date(),
});

describe('Alibaba Cloud SMS channel', () => {
  it('sends the mapped template with its variables, the sign and our delivery id; the vendor verifies the signature', async () => {
    const outcome = await createAlibabaSmsChannel(options()).send(dispatch('+86 138-0013-8000'));
    expect(outcome).toEqual({ kind: 'delivered', statusCode: 200 });
    expect(vendor.sent).toEqual([
      {
        phone: '13800138000',
        signName: '国网后湖供电所',
        templateCode: 'SMS_4920001',
        params: { grid: '后湖3号网格 台区HH-TQ-017', matter: '养殖户停电', deadline: '14:32' },
        outId: '0b6f2c1e-delivery',
      },
    ]);
  });

  it('retries flow control (isv.BUSINESS_LIMIT_CONTROL), then delivers', async () => {
    vendor.throttle(1);
    const channel = createAlibabaSmsChannel(options());
    expect(await channel.send(dispatch('13800138000'))).toMatchObject({
      kind: 'retry',
      statusCode: 200,
      error: expect.stringMatching(/^alibaba isv\.BUSINESS_LIMIT_CONTROL/),
    });
    expect(await channel.send(dispatch('13800138000'))).toMatchObject({ kind: 'delivered' });
    expect(vendor.sent).toHaveLength(1);
  });

  it('fails a number the vendor refuses for good (isv.MOBILE_NUMBER_ILLEGAL); one that is no mobile is not even sent', async () => {
    const channel = createAlibabaSmsChannel(options());
    // 154… looks like a mobile to us; no carrier has that segment
    expect(await channel.send(dispatch('15400138000'))).toMatchObject({
      kind: 'permanent',
      statusCode: 200,
      error: expect.stringMatching(/^alibaba isv\.MOBILE_NUMBER_ILLEGAL/),
    });
    expect(await channel.send(dispatch('027-87654321'))).toEqual({
      kind: 'permanent',
      statusCode: null,
      error: 'invalid phone number (not a mainland mobile)',
    });
    expect(vendor.refused).toEqual(['isv.MOBILE_NUMBER_ILLEGAL']);
  });

  it('a wrong secret is refused by the vendor (SignatureDoesNotMatch), and that disables the channel, not the message', async () => {
    const outcome = await createAlibabaSmsChannel(options({ accessKeySecret: 'a-rotated-secret' })).send(dispatch('13800138000'));
    expect(outcome).toMatchObject({ kind: 'disabled', scope: 'channel', statusCode: 400, error: expect.stringMatching(/^alibaba SignatureDoesNotMatch/) });
    expect(vendor.refused).toEqual(['SignatureDoesNotMatch']);
    expect(vendor.sent).toEqual([]);
    const unknownKey = await createAlibabaSmsChannel(options({ accessKeyId: 'LTAI5tRevoked' })).send(dispatch('13800138000'));
    expect(unknownKey).toMatchObject({ kind: 'disabled', statusCode: 404, error: expect.stringMatching(/InvalidAccessKeyId\.NotFound/) });
  });

  it('an unapproved signature disables the channel, an unapproved template its kind', async () => {
    expect(await createAlibabaSmsChannel(options({ signName: '后湖所' })).send(dispatch('13800138000'))).toMatchObject({
      kind: 'disabled',
      error: expect.stringMatching(/isv\.SMS_SIGNATURE_ILLEGAL/),
    });
    // sla.breached maps to a template code the account does not have
    expect(await createAlibabaSmsChannel(options()).send(dispatch('13800138000', 'sla.breached'))).toMatchObject({
      kind: 'disabled',
      scope: 'template',
      error: expect.stringMatching(/isv\.SMS_TEMPLATE_ILLEGAL/),
    });
  });

  it('a kind without a mapping fails for good, unsent, with its own word', async () => {
    const outcome = await createAlibabaSmsChannel(options()).send(dispatch('13800138000', 'sla.warning'));
    expect(outcome).toEqual({ kind: 'permanent', statusCode: null, error: 'template_unmapped: no NOTIFY_SMS_TEMPLATES entry for sla.warning' });
    expect(vendor.refused).toEqual([]);
  });

  it('retries a vendor that does not answer within the timeout', async () => {
    vendor.stall(2_000);
    const outcome = await createAlibabaSmsChannel(options({ timeoutMs: 300 })).send(dispatch('13800138000'));
    // the SDK's message names the URL, phone number included: the delivery log keeps our word only
    expect(outcome).toEqual({ kind: 'retry', statusCode: null, error: 'timeout' });
    await vendor.close();
    expect(await createAlibabaSmsChannel(options()).send(dispatch('13800138000'))).toEqual({
      kind: 'retry',
      statusCode: null,
      error: 'network error: ECONNREFUSED',
    });
  });

  it('sorts the documented codes', () => {
    expect(classifyAlibaba('isv.DAY_LIMIT_CONTROL', '', 200).kind).toBe('retry');
    expect(classifyAlibaba('Throttling.User', '', 400, 1500)).toMatchObject({ kind: 'retry', retryAfterMs: 1500 });
    expect(classifyAlibaba('isp.SYSTEM_ERROR', '', 200).kind).toBe('retry');
    expect(classifyAlibaba('ServiceUnavailable', '', 503).kind).toBe('retry');
    expect(classifyAlibaba('isv.AMOUNT_NOT_ENOUGH', '', 200).kind).toBe('disabled');
    expect(classifyAlibaba('isp.RAM_PERMISSION_DENY', '', 200).kind).toBe('disabled');
    expect(classifyAlibaba('isv.BLACK_KEY_CONTROL_LIMIT', '', 200).kind).toBe('permanent');
    expect(classifyAlibaba('isv.PARAM_LENGTH_LIMIT', '', 200).kind).toBe('permanent');
  });
});
