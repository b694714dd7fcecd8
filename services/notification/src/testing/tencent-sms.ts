import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { serveSmsStandIn, type SmsStandIn } from './stand-in-server.ts';

// A local stand-in for Tencent Cloud SMS (SendSms 2021-01-11, API 3.0) that checks what the vendor
// checks, so the real SDK and our classification meet real refusals:
// * the request: POST / with a JSON body, X-TC-Action SendSms, X-TC-Version 2021-01-11,
//   X-TC-Region, PhoneNumberSet, SmsSdkAppId, TemplateId present (else MissingParameter);
// * the TC3-HMAC-SHA256 signature, recomputed from the shared SecretKey per the vendor's signing
//   document (cloud.tencent.com/document/api/382/52072): canonical request = method, path, query,
//   the signed headers `content-type` and `host` (`name:value\n`), their names, hex SHA-256 of the
//   body; string to sign = "TC3-HMAC-SHA256", the timestamp, the credential scope
//   `<UTC date>/<service>/tc3_request`, hex SHA-256 of the canonical request; signing key =
//   HMAC chain "TC3"+key → date → service → "tc3_request". The service is the one the Host names
//   (its first label: `sms` at sms.tencentcloudapi.com); the host is signed without a port (the
//   vendor's endpoint has none, ours does). Unknown SecretId → AuthFailure.SecretIdNotFound, wrong
//   signature → AuthFailure.SignatureFailure, a timestamp 5 min off → AuthFailure.SignatureExpire;
//   API 3.0 answers errors with HTTP 200 and `Response.Error`;
// * the SMS rules: an unknown app (InvalidParameterValue.SdkAppIdNotExist), an unapproved signature
//   or template (FailedOperation.SignatureIncorrectOrUnapproved / TemplateIncorrectOrUnapproved),
//   a parameter count other than the template's (FailedOperation.TemplateParamSetNotMatchApprovedTemplate)
//   as request errors; a number outside the mobile segments (InvalidParameterValue.IncorrectPhoneNumber)
//   and flow control (LimitExceeded.PhoneNumberThirtySecondLimit, scripted by `throttle`) in the
//   number's SendStatus, as the vendor reports them.

export interface TencentSent {
  phone: string;
  appId: string;
  signName: string;
  templateId: string;
  params: string[];
  sessionContext: string | null;
}

/** `throttle(n)`: the next `n` numbers get LimitExceeded.PhoneNumberThirtySecondLimit in their SendStatus. */
export type FakeTencentSms = SmsStandIn<TencentSent>;

export interface FakeTencentOptions {
  /** SecretId → SecretKey. */
  keys: Record<string, string>;
  appId: string;
  signNames: string[];
  /** Approved template id → its number of parameters. */
  templates: Record<string, number>;
}

const MOBILE_SEGMENTS = /^\+861(3\d|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8\d|9\d)\d{8}$/;
const hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** The signature the vendor computes (the signed headers: content-type and host). */
export function tc3Signature(secretKey: string, host: string, contentType: string, timestamp: number, service: string, body: Buffer): string {
  const canonical = ['POST', '/', '', `content-type:${contentType}\nhost:${host}\n`, 'content-type;host', hex(body)].join('\n');
  const date = new Date(timestamp * 1000).toISOString().slice(0, 10);
  const toSign = ['TC3-HMAC-SHA256', String(timestamp), `${date}/${service}/tc3_request`, hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(`TC3${secretKey}`, date), service), 'tc3_request');
  return createHmac('sha256', key).update(toSign).digest('hex');
}

function reply(res: ServerResponse, response: Record<string, unknown>) {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ Response: { ...response, RequestId: randomUUID() } }));
}

export function startFakeTencentSms(options: FakeTencentOptions): Promise<FakeTencentSms> {
  return serveSmsStandIn<TencentSent>((req, body, res, { sent, refused, throttled }) => {
    function error(res: ServerResponse, code: string, message: string) {
      refused.push(code);
      reply(res, { Error: { Code: code, Message: message } });
    }

    const h = req.headers;
    if (req.method !== 'POST' || h['x-tc-action'] !== 'SendSms') return error(res, 'InvalidAction', 'The requested action does not exist.');
    if (h['x-tc-version'] !== '2021-01-11') return error(res, 'NoSuchVersion', 'The API version does not exist.');
    if (!h['x-tc-region']) return error(res, 'MissingParameter', 'The request is missing a required parameter `Region`.');
    const auth = /^TC3-HMAC-SHA256 Credential=([^/]+)\/(\d{4}-\d{2}-\d{2})\/([^/]+)\/tc3_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      String(h.authorization ?? ''),
    );
    if (!auth) return error(res, 'AuthFailure.InvalidAuthorization', 'Authorization in the request header is invalid.');
    const [, secretId = '', date, service, signed, signature] = auth;
    const timestamp = Number(h['x-tc-timestamp']);
    if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > 300) return error(res, 'AuthFailure.SignatureExpire', 'Signature expired.');
    const key = options.keys[secretId];
    if (key === undefined) return error(res, 'AuthFailure.SecretIdNotFound', 'The SecretId is not found.');
    const host = String(h.host ?? '').replace(/:\d+$/, '');
    const expected = tc3Signature(key, host, String(h['content-type'] ?? ''), timestamp, host.split('.')[0] ?? '', body);
    if (
      signed !== 'content-type;host' ||
      date !== new Date(timestamp * 1000).toISOString().slice(0, 10) ||
      service !== host.split('.')[0] ||
      signature !== expected
    ) {
      return error(res, 'AuthFailure.SignatureFailure', 'The provided credentials could not be validated. Please check your signature is correct.');
    }
    let q: { PhoneNumberSet?: unknown; SmsSdkAppId?: unknown; SignName?: unknown; TemplateId?: unknown; TemplateParamSet?: unknown; SessionContext?: unknown };
    try {
      q = JSON.parse(body.toString('utf8')) as typeof q;
    } catch {
      return error(res, 'FailedOperation.FailResolvePacket', 'Request package parsing failed.');
    }
    for (const name of ['PhoneNumberSet', 'SmsSdkAppId', 'TemplateId'] as const) {
      if (q[name] === undefined) return error(res, `MissingParameter`, `The request is missing a required parameter \`${name}\`.`);
    }
    if (q.SmsSdkAppId !== options.appId) return error(res, 'InvalidParameterValue.SdkAppIdNotExist', 'SdkAppId does not exist.');
    if (typeof q.SignName !== 'string' || !options.signNames.includes(q.SignName))
      return error(res, 'FailedOperation.SignatureIncorrectOrUnapproved', 'The signature is not approved or is in the wrong format.');
    const count = options.templates[String(q.TemplateId)];
    if (count === undefined) return error(res, 'FailedOperation.TemplateIncorrectOrUnapproved', 'The template is not approved or does not match.');
    const params = Array.isArray(q.TemplateParamSet) ? q.TemplateParamSet : [];
    if (params.length !== count || params.some((p) => typeof p !== 'string')) {
      return error(res, 'FailedOperation.TemplateParamSetNotMatchApprovedTemplate', 'The number of template parameters does not match the approved template.');
    }
    const phones = Array.isArray(q.PhoneNumberSet) ? (q.PhoneNumberSet as unknown[]).map(String) : [];
    const context = typeof q.SessionContext === 'string' ? q.SessionContext : null;
    const statuses = phones.map((phone) => {
      let code = 'Ok';
      if (!MOBILE_SEGMENTS.test(phone)) code = 'InvalidParameterValue.IncorrectPhoneNumber';
      else if (throttled()) code = 'LimitExceeded.PhoneNumberThirtySecondLimit';
      if (code === 'Ok')
        sent.push({
          phone,
          appId: options.appId,
          signName: q.SignName as string,
          templateId: String(q.TemplateId),
          params: params as string[],
          sessionContext: context,
        });
      else refused.push(code);
      return {
        SerialNo: code === 'Ok' ? `2433:${Date.now()}` : '',
        PhoneNumber: phone,
        Fee: code === 'Ok' ? 1 : 0,
        SessionContext: context ?? '',
        Code: code,
        Message: code === 'Ok' ? 'send success' : code,
        IsoCode: 'CN',
      };
    });
    return reply(res, { SendStatusSet: statuses });
  });
}
