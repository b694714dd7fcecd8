import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { startFakeAlibabaSms } from '@griddispatch/notification/testing/alibaba-sms';
import { startFakeTencentSms } from '@griddispatch/notification/testing/tencent-sms';

// Which SMS path bench/customers.ts sends through (`--sms`): the generic gateway (a bare local
// receiver answering 200 at once), or a real vendor adapter — the Alibaba or Tencent SDK — against
// the local stand-in that checks the request and recomputes its signature as the vendor does
// (services/notification/src/testing/). The vendor passes cost what the SDK and the signature
// check cost; the gateway pass is the ceiling of the delivery path itself.

export const SMS_PATHS = ['gateway', 'alibaba', 'tencent'] as const;
export type SmsPath = (typeof SMS_PATHS)[number];

/** The kinds the bench counts, and the staff kinds the merged calls produce, with their template's variables. */
const KINDS: Record<string, string[]> = {
  'outage.detected': ['area', 'account', 'etr'],
  'outage.etr_changed': ['area', 'account', 'etr'],
  'outage.restored': ['area', 'account', 'time'],
  'callback.requested': [],
  'dispatch.assigned': ['grid', 'deadline'],
  'incident.opened': ['feeder', 'etr'],
};
const kinds = Object.keys(KINDS);
const SIGN = '国网后湖供电所';
// The vendors' SDKs, loaded as notification's adapters load them (CommonJS).
const require = createRequire(import.meta.url);
const dysmsapi = require('@alicloud/dysmsapi20170525') as typeof import('@alicloud/dysmsapi20170525', { with: { 'resolution-mode': 'require' } });
const { $OpenApiUtil } = require('@alicloud/openapi-core') as typeof import('@alicloud/openapi-core', { with: { 'resolution-mode': 'require' } });
const tencentSms = require('tencentcloud-sdk-nodejs-sms') as typeof import('tencentcloud-sdk-nodejs-sms', { with: { 'resolution-mode': 'require' } });
const PARAMS = { area: '后湖1号台区', account: '1234', time: '14:32' };

export interface SmsReceiver {
  /** NOTIFY_SMS_* for notification's config. */
  env: Record<string, string>;
  /** Arrival times (performance.now()) at the receiver per message kind, only of messages it accepted. */
  arrivals: Map<string, number[]>;
  /** Refusals by the vendor stand-in (signature, template, parameters…): 0 when the path is sound. */
  refused(): string[];
  /** The vendor yardstick: `n` SendSms calls of the SDK alone, `concurrency` at once, to the same stand-in; seconds taken. */
  sdkLoop(n: number, concurrency: number): Promise<number>;
  close(): Promise<void>;
}

async function loop(n: number, concurrency: number, send: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await send(next++);
    }),
  );
  return (performance.now() - t0) / 1000;
}

const phone = (i: number) => `139${String(10_000_000 + i).slice(-8)}`;

function record(arrivals: Map<string, number[]>, kind: string): void {
  const list = arrivals.get(kind) ?? [];
  list.push(performance.now());
  arrivals.set(kind, list);
}

/** Records each accepted message's arrival as the stand-in stores it (its `sent` list is the vendor's acceptance). */
function onSent<T>(sent: T[], kindOf: (s: T) => string, arrivals: Map<string, number[]>): void {
  const push = sent.push.bind(sent);
  sent.push = (...items: T[]) => {
    for (const s of items) record(arrivals, kindOf(s));
    return push(...items);
  };
}

/** The vendor stand-in for `path` (not the gateway: bench/customers.ts starts that itself). */
export async function startVendor(path: Exclude<SmsPath, 'gateway'>): Promise<SmsReceiver> {
  const arrivals = new Map<string, number[]>();
  if (path === 'alibaba') {
    const code = (i: number) => `SMS_49200${String(i + 10)}`;
    const vendor = await startFakeAlibabaSms({
      keys: { LTAI5tBench: 'bench-secret' },
      signNames: [SIGN],
      templates: Object.fromEntries(kinds.map((k, i) => [code(i), KINDS[k]!])),
    });
    const kindByCode = new Map(kinds.map((k, i) => [code(i), k]));
    onSent(vendor.sent, (s) => kindByCode.get(s.templateCode) ?? s.templateCode, arrivals);
    return {
      env: {
        NOTIFY_SMS_URL: '',
        NOTIFY_SMS_VENDOR: 'alibaba',
        NOTIFY_SMS_ACCESS_KEY_ID: 'LTAI5tBench',
        NOTIFY_SMS_ACCESS_KEY_SECRET: 'bench-secret',
        NOTIFY_SMS_SIGN_NAME: SIGN,
        NOTIFY_SMS_ENDPOINT: vendor.endpoint,
        NOTIFY_SMS_TEMPLATES: JSON.stringify(Object.fromEntries(kinds.map((k, i) => [k, { code: code(i), params: KINDS[k] }]))),
      },
      arrivals,
      refused: () => [...vendor.refused],
      // The adapters' timeout (NOTIFY_HTTP_TIMEOUT_MS), not the SDK's 3 s default: 256 in flight on a loaded machine wait longer.
      sdkLoop: (n, concurrency) => {
        const url = new URL(vendor.endpoint);
        const client = new dysmsapi.default(
          new $OpenApiUtil.Config({
            accessKeyId: 'LTAI5tBench',
            accessKeySecret: 'bench-secret',
            endpoint: url.host,
            protocol: 'http',
            connectTimeout: 30_000,
            readTimeout: 30_000,
          }),
        );
        return loop(n, concurrency, async (i) => {
          const answer = await client.sendSms(
            new dysmsapi.SendSmsRequest({
              phoneNumbers: phone(i),
              signName: SIGN,
              templateCode: code(2),
              templateParam: JSON.stringify(PARAMS),
              outId: `yardstick-${i}`,
            }),
          );
          if (answer.body?.code !== 'OK') throw new Error(`alibaba yardstick: ${answer.body?.code}`);
        });
      },
      close: () => vendor.close(),
    };
  }
  const code = (i: number) => String(2041010 + i);
  const vendor = await startFakeTencentSms({
    keys: { AKIDbench: 'bench-secret-key' },
    appId: '1400006666',
    signNames: [SIGN],
    templates: Object.fromEntries(kinds.map((k, i) => [code(i), KINDS[k]!.length])),
  });
  const kindByCode = new Map(kinds.map((k, i) => [code(i), k]));
  onSent(vendor.sent, (s) => kindByCode.get(s.templateId) ?? s.templateId, arrivals);
  return {
    env: {
      NOTIFY_SMS_URL: '',
      NOTIFY_SMS_VENDOR: 'tencent',
      NOTIFY_SMS_ACCESS_KEY_ID: 'AKIDbench',
      NOTIFY_SMS_ACCESS_KEY_SECRET: 'bench-secret-key',
      NOTIFY_SMS_SIGN_NAME: SIGN,
      NOTIFY_SMS_APP_ID: '1400006666',
      NOTIFY_SMS_ENDPOINT: vendor.endpoint,
      NOTIFY_SMS_TEMPLATES: JSON.stringify(Object.fromEntries(kinds.map((k, i) => [k, { code: code(i), params: KINDS[k] }]))),
    },
    arrivals,
    refused: () => [...vendor.refused],
    sdkLoop: (n, concurrency) => {
      const url = new URL(vendor.endpoint);
      const client = new tencentSms.sms.v20210111.Client({
        credential: { secretId: 'AKIDbench', secretKey: 'bench-secret-key' },
        region: 'ap-guangzhou',
        profile: { httpProfile: { endpoint: url.host, protocol: 'http://', reqTimeout: 30 } },
      });
      return loop(n, concurrency, async (i) => {
        const answer = await client.SendSms({
          PhoneNumberSet: [`+86${phone(i)}`],
          SmsSdkAppId: '1400006666',
          SignName: SIGN,
          TemplateId: code(2),
          TemplateParamSet: Object.values(PARAMS),
          SessionContext: `yardstick-${i}`,
        });
        if (answer.SendStatusSet?.[0]?.Code !== 'Ok') throw new Error(`tencent yardstick: ${answer.SendStatusSet?.[0]?.Code}`);
      });
    },
    close: () => vendor.close(),
  };
}
