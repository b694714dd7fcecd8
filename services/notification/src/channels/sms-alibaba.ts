import { createRequire } from 'node:module';
import { sdkNetworkFailure } from '../delivery/retry-policy.ts';
import { vendorSmsChannel, type SmsTemplates } from './sms-templates.ts';
import type { Channel, SendOutcome } from './types.ts';

// SMS through Alibaba Cloud SMS (阿里云短信服务), its SendSms API (version 2017-05-25) called with the
// vendor's own SDK, which signs every request ACS3-HMAC-SHA256 with the AccessKey secret:
//   PhoneNumbers  the mainland mobile, 11 digits
//   SignName      NOTIFY_SMS_SIGN_NAME, the approved signature shown as 【…】
//   TemplateCode  NOTIFY_SMS_TEMPLATES[kind].code (`SMS_…`), an approved template
//   TemplateParam JSON of the template's variables (`${grid}` ← params.grid)
//   OutId         our delivery id: the vendor's receipts and the console name the delivery.
// SendSms is not idempotent (a resend after a lost answer may reach the phone twice), so the SDK's
// own retries stay off; the delivery worker retries, on its backoff, what this file calls retry.

// CommonJS packages: required, so Node, the bundle and vitest all see the same `exports` object
// (an ESM default import of them differs between Node and vitest's transform).
const require = createRequire(import.meta.url);
const dysmsapi = require('@alicloud/dysmsapi20170525') as typeof import('@alicloud/dysmsapi20170525', { with: { 'resolution-mode': 'require' } });
const { $OpenApiUtil } = require('@alicloud/openapi-core') as typeof import('@alicloud/openapi-core', { with: { 'resolution-mode': 'require' } });

export interface AlibabaSmsOptions {
  accessKeyId: string;
  accessKeySecret: string;
  signName: string;
  /** `https://dysmsapi.aliyuncs.com`, or `http://host:port` (a relay, a test endpoint). */
  endpoint: string;
  templates: SmsTemplates;
  timeoutMs: number;
}

// The vendor's codes (SendSms error codes, help.aliyun.com/zh/sms/developer-reference/api-error-codes,
// and the OpenAPI gateway's common codes) sorted into our outcomes. `Code` arrives in the JSON
// body of an HTTP 200 answer for SMS rules, and of a 4xx/5xx answer for the gateway's checks.
//
// | code                                                    | meaning                                  | outcome   |
// | ------------------------------------------------------- | ---------------------------------------- | --------- |
// | OK                                                      | accepted                                 | delivered |
// | isv.BUSINESS_LIMIT_CONTROL, isv.DAY_LIMIT_CONTROL,      | flow control per number / day / account  | retry     |
// |   BUSINESS_LIMIT_*, isv.BUSINESS_LIMIT_*, Throttling*   |                                          |           |
// | isp.SYSTEM_ERROR, isp.GATEWAY_ERROR, isp.UNKNOWN,       | the vendor's own failure                 | retry     |
// |   InternalError, ServiceUnavailable, isv.DATA_NOT_EXIST,|                                          |           |
// |   isv.BILLING_DEDUCTION_ERROR, SignatureNonceUsed, 5xx  |                                          |           |
// | InvalidAccessKeyId.*, SignatureDoesNotMatch,            | our AccessKey or its permissions         | disabled  |
// |   IncompleteSignature, isp.RAM_PERMISSION_DENY,         |                                          |           |
// |   isv.RAM_CHECK_FAILED, Forbidden.RAM, InvalidTimeStamp.*|(a clock off by > 15 min fails them all) |           |
// | isv.SMS_SIGNATURE_ILLEGAL, isv.SMS_SIGN_NAME_ILLEGAL     | the signature is not approved            | disabled  |
// | isv.SMS_TEMPLATE_ILLEGAL, isv.TEMPLATE_MISSING_PARAMETERS| the template (or our mapping) is wrong  | disabled (that kind) |
// | isv.OUT_OF_SERVICE, isv.AMOUNT_NOT_ENOUGH,              | the account: arrears, balance, not       | disabled  |
// |   isv.ACCOUNT_NOT_EXISTS, isv.ACCOUNT_ABNORMAL,          |   activated                              |           |
// |   isv.PRODUCT_UN_SUBSCRIPT, isv.PRODUCT_UNSUBSCRIBE     |                                          |           |
// | isv.MOBILE_NUMBER_ILLEGAL, isv.BLACK_KEY_CONTROL_LIMIT, | this message: number, blacklisted words, | permanent |
// |   isv.PARAM_LENGTH_LIMIT, isv.PARAM_NOT_SUPPORT_URL,    |   a variable too long or a URL, bad JSON |           |
// |   isv.INVALID_JSON_PARAM, isv.INVALID_PARAMETERS, others|                                          |           |

const RETRY = [
  /^isv\.BUSINESS_LIMIT/,
  /^BUSINESS_LIMIT/,
  /^isv\.DAY_LIMIT_CONTROL$/,
  /Throttling/,
  /^isp\.(SYSTEM_ERROR|GATEWAY_ERROR|UNKNOWN)$/,
  /^InternalError/,
  /^ServiceUnavailable/,
  /^isv\.DATA_NOT_EXIST$/,
  /^isv\.BILLING_DEDUCTION_ERROR$/,
  /^SignatureNonceUsed$/,
];
const DISABLED = [
  /^InvalidAccessKeyId/,
  /^SignatureDoesNotMatch$/,
  /^IncompleteSignature$/,
  /^isp\.RAM_PERMISSION_DENY$/,
  /^isv\.RAM_CHECK_FAILED$/,
  /^Forbidden\.RAM/,
  /^InvalidTimeStamp/,
  /^isv\.SMS_SIGNATURE_ILLEGAL$/,
  /^isv\.SMS_SIGN_NAME_ILLEGAL$/,
  /^isv\.(OUT_OF_SERVICE|AMOUNT_NOT_ENOUGH|ACCOUNT_NOT_EXISTS|ACCOUNT_ABNORMAL|PRODUCT_UN_SUBSCRIPT|PRODUCT_UNSUBSCRIBE)$/,
];
/** Refusals of one template: they hold that message kind, not the channel. */
const TEMPLATE = [/^isv\.SMS_TEMPLATE_ILLEGAL$/, /^isv\.TEMPLATE_MISSING_PARAMETERS$/];

/** One Alibaba answer code (with the HTTP status it came with) as our outcome. */
export function classifyAlibaba(code: string, message: string, statusCode: number | null, retryAfterMs?: number): SendOutcome {
  if (code === 'OK') return { kind: 'delivered', statusCode };
  const error = `alibaba ${code}: ${message}`.slice(0, 200);
  if (TEMPLATE.some((re) => re.test(code))) return { kind: 'disabled', statusCode, error, scope: 'template' };
  if (DISABLED.some((re) => re.test(code))) return { kind: 'disabled', statusCode, error, scope: 'channel' };
  if (RETRY.some((re) => re.test(code)) || (statusCode !== null && statusCode >= 500)) {
    return retryAfterMs !== undefined && retryAfterMs > 0 ? { kind: 'retry', statusCode, error, retryAfterMs } : { kind: 'retry', statusCode, error };
  }
  return { kind: 'permanent', statusCode, error };
}

/** What the SDK throws for an HTTP 4xx/5xx answer (`AlibabaCloudError`); anything else had no answer. */
interface VendorError {
  code: string;
  statusCode: number;
  message?: string;
  data?: { Message?: unknown };
  retryAfter?: unknown;
}

function isVendorError(err: unknown): err is VendorError {
  const e = err as Partial<VendorError> | null;
  return typeof e?.code === 'string' && typeof e.statusCode === 'number';
}

export function createAlibabaSmsChannel(options: AlibabaSmsOptions): Channel {
  const endpoint = new URL(options.endpoint);
  const client = new dysmsapi.default(
    new $OpenApiUtil.Config({
      accessKeyId: options.accessKeyId,
      accessKeySecret: options.accessKeySecret,
      endpoint: endpoint.host,
      protocol: endpoint.protocol.replace(':', ''),
      connectTimeout: options.timeoutMs,
      readTimeout: options.timeoutMs,
    }),
  );
  return vendorSmsChannel(options.templates, async (to, message, request) => {
    const sms = new dysmsapi.SendSmsRequest({
      phoneNumbers: to.slice(3),
      signName: options.signName,
      templateCode: message.code,
      templateParam: JSON.stringify(message.named),
      outId: request.deliveryId,
    });
    try {
      const answer = await client.sendSms(sms);
      return classifyAlibaba(answer.body?.code ?? '(no code)', answer.body?.message ?? '', answer.statusCode ?? null);
    } catch (err) {
      if (!isVendorError(err)) return sdkNetworkFailure(err);
      const text = typeof err.data?.Message === 'string' ? err.data.Message : (err.message ?? '');
      return classifyAlibaba(err.code, text, err.statusCode, typeof err.retryAfter === 'number' ? err.retryAfter : undefined);
    }
  });
}
