import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { envJson } from '@griddispatch/http';
import type { SmsTemplates } from './channels/sms-templates.ts';
import { SMS_KINDS, isSmsKind } from './templates/sms-kinds.ts';

// Where SMS go (docs/architecture.md#configuration): one vendor for the whole process —
// Alibaba Cloud SMS, Tencent Cloud SMS, a generic HTTP gateway, or (nothing configured) the log.
// Checked at boot: a vendor without its credentials, sign or app id, a mapping for a kind that does
// not exist, a parameter a kind does not have, or a Tencent mapping without its parameter order
// stops the start with the variable named.

export const SMS_VENDORS = ['gateway', 'alibaba', 'tencent'] as const;
export type SmsVendor = (typeof SMS_VENDORS)[number];

export const DEFAULT_ENDPOINTS: Record<'alibaba' | 'tencent', string> = {
  alibaba: 'https://dysmsapi.aliyuncs.com',
  tencent: 'https://sms.tencentcloudapi.com',
};

export type SmsConfig =
  | { vendor: 'gateway'; url: string; authHeader?: { name: string; value: string } }
  | { vendor: 'alibaba'; accessKeyId: string; accessKeySecret: string; signName: string; endpoint: string }
  | { vendor: 'tencent'; secretId: string; secretKey: string; appId: string; signName: string; region: string; endpoint: string };

const template = z.union([
  z
    .string()
    .min(1)
    .transform((code) => ({ code, params: null })),
  z
    .object({ code: z.string().min(1), params: z.array(z.string().min(1)).optional() })
    .strict()
    .transform((t) => ({ code: t.code, params: t.params ?? null })),
]);

/** NOTIFY_SMS_TEMPLATES: JSON (`{…}`), or the path of a JSON file. */
export const smsTemplates = z
  .string()
  .transform((text, ctx) => {
    const source = text.trim();
    if (source.startsWith('{')) return source;
    try {
      return readFileSync(source, 'utf8');
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `neither JSON nor a readable file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      return z.NEVER;
    }
  })
  .pipe(envJson(z.record(z.string(), template)))
  .transform((mappings, ctx): SmsTemplates => {
    const out: SmsTemplates = {};
    for (const [kind, t] of Object.entries(mappings)) {
      if (!isSmsKind(kind)) {
        ctx.addIssue({ code: 'custom', message: `unknown message kind "${kind}" (known: ${Object.keys(SMS_KINDS).join(', ')})` });
        continue;
      }
      const known: readonly string[] = SMS_KINDS[kind];
      const unknown = (t.params ?? []).filter((p) => !known.includes(p));
      if (unknown.length) ctx.addIssue({ code: 'custom', message: `${kind}: no parameter ${unknown.join(', ')} (it has ${known.join(', ')})` });
      out[kind] = t;
    }
    return out;
  });

/** The variables, merged into NotificationEnv. */
export const smsEnvShape = {
  /** Unset: `gateway` when NOTIFY_SMS_URL is set, else SMS go to the log. */
  NOTIFY_SMS_VENDOR: z.enum(SMS_VENDORS).optional(),
  /** Alibaba: the AccessKey ID and secret; Tencent: the SecretId and SecretKey. */
  NOTIFY_SMS_ACCESS_KEY_ID: z.string().min(1).optional(),
  NOTIFY_SMS_ACCESS_KEY_SECRET: z.string().min(1).optional(),
  /** The approved signature (签名), shown as 【…】 before every message. */
  NOTIFY_SMS_SIGN_NAME: z.string().min(1).optional(),
  /** Tencent's SmsSdkAppId (`1400…`). */
  NOTIFY_SMS_APP_ID: z.string().regex(/^\d+$/, 'expected the digits of the SmsSdkAppId').optional(),
  /** Tencent's region (the SMS API serves ap-guangzhou, ap-beijing, ap-nanjing). */
  NOTIFY_SMS_REGION: z.string().min(1).default('ap-guangzhou'),
  /** The vendor's API: default its public endpoint; `http://host:port` reaches a relay or a test endpoint. */
  NOTIFY_SMS_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  NOTIFY_SMS_TEMPLATES: smsTemplates.default({}),
};

type SmsEnv = z.output<z.ZodObject<typeof smsEnvShape>> & {
  /** The generic gateway's URL and auth header (config.ts). */
  NOTIFY_SMS_URL?: string | undefined;
  NOTIFY_SMS_AUTH_HEADER?: { name: string; value: string } | undefined;
};

/** The SMS settings, or the problems with them (each naming its variable). */
export function smsConfig(e: SmsEnv): { config: SmsConfig | null; issues: { path: string; message: string }[] } {
  const authHeader = e.NOTIFY_SMS_AUTH_HEADER;
  const issues: { path: string; message: string }[] = [];
  const vendor = e.NOTIFY_SMS_VENDOR ?? (e.NOTIFY_SMS_URL ? 'gateway' : null);
  const need = <T>(value: T | undefined, path: string): T | undefined => {
    if (value === undefined) issues.push({ path, message: `required when NOTIFY_SMS_VENDOR=${vendor}` });
    return value;
  };
  if (vendor === null) return { config: null, issues };
  if (vendor === 'gateway') {
    const url = need(e.NOTIFY_SMS_URL, 'NOTIFY_SMS_URL');
    return { config: url ? { vendor, url, ...(authHeader ? { authHeader } : {}) } : null, issues };
  }
  if (e.NOTIFY_SMS_URL) issues.push({ path: 'NOTIFY_SMS_URL', message: `is the generic gateway's; with NOTIFY_SMS_VENDOR=${vendor} use NOTIFY_SMS_ENDPOINT` });
  const id = need(e.NOTIFY_SMS_ACCESS_KEY_ID, 'NOTIFY_SMS_ACCESS_KEY_ID');
  const secret = need(e.NOTIFY_SMS_ACCESS_KEY_SECRET, 'NOTIFY_SMS_ACCESS_KEY_SECRET');
  const signName = need(e.NOTIFY_SMS_SIGN_NAME, 'NOTIFY_SMS_SIGN_NAME');
  const endpoint = e.NOTIFY_SMS_ENDPOINT ?? DEFAULT_ENDPOINTS[vendor];
  if (vendor === 'alibaba') {
    if (!id || !secret || !signName) return { config: null, issues };
    return { config: { vendor, accessKeyId: id, accessKeySecret: secret, signName, endpoint }, issues };
  }
  const appId = need(e.NOTIFY_SMS_APP_ID, 'NOTIFY_SMS_APP_ID');
  for (const [kind, t] of Object.entries(e.NOTIFY_SMS_TEMPLATES)) {
    if (t.params === null)
      issues.push({
        path: 'NOTIFY_SMS_TEMPLATES',
        message: `${kind}: Tencent fills {1}, {2}… in order, so the mapping needs "params" (e.g. {"code":"${t.code}","params":["grid","deadline"]})`,
      });
  }
  if (!id || !secret || !signName || !appId) return { config: null, issues };
  return { config: { vendor, secretId: id, secretKey: secret, appId, signName, region: e.NOTIFY_SMS_REGION, endpoint }, issues };
}
