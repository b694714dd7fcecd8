import { createRequire } from 'node:module';
import { sdkNetworkFailure } from '../delivery/retry-policy.ts';
import { vendorSmsChannel, type SmsTemplates } from './sms-templates.ts';
import type { Channel, SendOutcome } from './types.ts';

// SMS through Tencent Cloud SMS (腾讯云短信), its SendSms API (version 2021-01-11) called with the
// vendor's own SDK, which signs every request TC3-HMAC-SHA256 with the SecretKey:
//   PhoneNumberSet    [the +86 E.164 mobile]
//   SmsSdkAppId       NOTIFY_SMS_APP_ID
//   SignName          NOTIFY_SMS_SIGN_NAME, the approved signature
//   TemplateId        NOTIFY_SMS_TEMPLATES[kind].code, an approved template
//   TemplateParamSet  the values of NOTIFY_SMS_TEMPLATES[kind].params, in that order ({1}, {2}, …)
//   SessionContext    our delivery id, echoed in the answer and the receipts.
// SendSms is not idempotent; the SDK does not retry, the delivery worker does (on its backoff).

export interface TencentSmsOptions {
  secretId: string;
  secretKey: string;
  appId: string;
  signName: string;
  region: string;
  /** `https://sms.tencentcloudapi.com`, or `http://host:port` (a relay, a test endpoint). */
  endpoint: string;
  templates: SmsTemplates;
  timeoutMs: number;
}

// The vendor's codes (SMS API 3.0 error codes, cloud.tencent.com/document/api/382/52075, and the
// common codes) sorted into our outcomes. A request-level code arrives in `Response.Error.Code`
// (the SDK throws it), a per-number one in `SendStatusSet[].Code` of a successful call.
//
// | code                                                       | meaning                                | outcome   |
// | ---------------------------------------------------------- | -------------------------------------- | --------- |
// | Ok                                                         | accepted                               | delivered |
// | LimitExceeded.* (PhoneNumberDailyLimit, …ThirtySecondLimit, | frequency limits per number, app, day  | retry     |
// |   …OneHourLimit, DeliveryFrequencyLimit, AppDailyLimit), RequestLimitExceeded* |           |           |
// | InternalError.* (Timeout, OtherError, …), InternalError     | the vendor's own failure               | retry     |
// | AuthFailure.* (SignatureFailure, SecretIdNotFound,          | our SecretId/SecretKey, its permissions,| disabled |
// |   SignatureExpire, InvalidSecretId), UnauthorizedOperation.*| the app id; a clock off by > 5 min     |           |
// |   InvalidParameterValue.SdkAppIdNotExist, InternalError.RequestTimeException |             |           |
// | FailedOperation.SignatureIncorrectOrUnapproved,             | the signature is not approved; our     | disabled  |
// |   MissingParameter.*                                        |   request lacks what the API needs     |           |
// | FailedOperation.TemplateIncorrectOrUnapproved,              | the template (or our mapping's         | disabled  |
// |   FailedOperation.TemplateParamSetNotMatchApprovedTemplate  |   parameter list) is wrong             | (that kind)|
// | FailedOperation.InsufficientBalanceInSmsPackage             | the package is used up                 | disabled  |
// | InvalidParameterValue.IncorrectPhoneNumber,                 | this message: the number, the          | permanent |
// |   FailedOperation.PhoneNumberInBlacklist (unsubscribed),    |   recipient's opt-out, sensitive words,|           |
// |   FailedOperation.ContainSensitiveWord, InvalidParameterValue.TemplateParameter*, | a value too long | |
// |   InvalidParameterValue.ContentLengthLimit, LimitExceeded.PhoneNumberCountLimit, others |       |           |

const RETRY = [/^LimitExceeded\.(?!PhoneNumberCountLimit)/, /^RequestLimitExceeded/, /^InternalError(?!\.RequestTimeException)/];
const DISABLED = [
  /^AuthFailure/,
  /^UnauthorizedOperation/,
  /^InvalidParameterValue\.SdkAppIdNotExist$/,
  /^InternalError\.RequestTimeException$/,
  /^FailedOperation\.(SignatureIncorrectOrUnapproved|InsufficientBalanceInSmsPackage)$/,
  /^MissingParameter/,
];
/** Refusals of one template: they hold that message kind, not the channel. */
const TEMPLATE = [/^FailedOperation\.(TemplateIncorrectOrUnapproved|TemplateParamSetNotMatchApprovedTemplate)$/];

/** One Tencent answer code as our outcome (`statusCode`: the HTTP status when known). */
export function classifyTencent(code: string, message: string, statusCode: number | null): SendOutcome {
  if (code === 'Ok') return { kind: 'delivered', statusCode };
  const error = `tencent ${code}: ${message}`.slice(0, 200);
  if (TEMPLATE.some((re) => re.test(code))) return { kind: 'disabled', statusCode, error, scope: 'template' };
  if (DISABLED.some((re) => re.test(code))) return { kind: 'disabled', statusCode, error, scope: 'channel' };
  if (RETRY.some((re) => re.test(code))) return { kind: 'retry', statusCode, error };
  return { kind: 'permanent', statusCode, error };
}

// CommonJS packages: required, so Node, the bundle and vitest all see the same `exports` object.
const require = createRequire(import.meta.url);
const tencentSms = require('tencentcloud-sdk-nodejs-sms') as typeof import('tencentcloud-sdk-nodejs-sms', { with: { 'resolution-mode': 'require' } });

/** The SDK's TencentCloudSDKHttpException: `code` when the API answered an error, `httpCode` for a non-200 answer. */
interface SdkError {
  code?: string;
  httpCode?: number;
  message?: string;
}

export function createTencentSmsChannel(options: TencentSmsOptions): Channel {
  const endpoint = new URL(options.endpoint);
  const client = new tencentSms.sms.v20210111.Client({
    credential: { secretId: options.secretId, secretKey: options.secretKey },
    region: options.region,
    profile: { httpProfile: { endpoint: endpoint.host, protocol: `${endpoint.protocol}//`, reqTimeout: Math.max(1, Math.ceil(options.timeoutMs / 1000)) } },
  });
  return vendorSmsChannel(options.templates, async (to, message, request) => {
    try {
      const answer = await client.SendSms({
        PhoneNumberSet: [to],
        SmsSdkAppId: options.appId,
        SignName: options.signName,
        TemplateId: message.code,
        TemplateParamSet: message.ordered,
        SessionContext: request.deliveryId,
      });
      const status = answer.SendStatusSet?.[0];
      if (!status?.Code) return { kind: 'retry', statusCode: 200, error: 'tencent: no send status in the answer' };
      return classifyTencent(status.Code, status.Message ?? '', 200);
    } catch (err) {
      const e = err as SdkError;
      if (e.code) return classifyTencent(e.code, e.message ?? '', 200);
      if (e.httpCode)
        return e.httpCode >= 500 || e.httpCode === 429
          ? { kind: 'retry', statusCode: e.httpCode, error: `tencent HTTP ${e.httpCode}` }
          : { kind: 'permanent', statusCode: e.httpCode, error: `tencent HTTP ${e.httpCode}` };
      // No answer: the SDK wraps fetch's timeout or connection error in its own exception.
      return sdkNetworkFailure(err);
    }
  });
}
