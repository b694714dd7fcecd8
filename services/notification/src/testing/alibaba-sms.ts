import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveSmsStandIn, type SmsStandIn } from './stand-in-server.ts';

// A local stand-in for Alibaba Cloud SMS (dysmsapi, SendSms 2017-05-25) that checks what the vendor
// checks, so the real SDK and our classification meet real refusals:
// * the request: POST /, x-acs-action SendSms, x-acs-version 2017-05-25, PhoneNumbers, SignName,
//   TemplateCode present (else 400 Missing<Param>);
// * the ACS3-HMAC-SHA256 signature, recomputed from the shared secret per the vendor's V3 signing
//   document (help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature): canonical
//   request = method, path, sorted RFC 3986-encoded query, the signed headers (`name:value`,
//   sorted), their names, hex SHA-256 of the body; string to sign = "ACS3-HMAC-SHA256\n" + its hex
//   SHA-256; signature = hex HMAC-SHA256(secret, string to sign). An unknown key is 404
//   InvalidAccessKeyId.NotFound, a wrong signature 400 SignatureDoesNotMatch, as the vendor answers;
// * the SMS rules, answered in an HTTP 200 body like the vendor: an unapproved signature
//   (isv.SMS_SIGNATURE_ILLEGAL) or template (isv.SMS_TEMPLATE_ILLEGAL), a variable the template
//   needs missing (isv.TEMPLATE_MISSING_PARAMETERS), TemplateParam not a JSON object of strings
//   (isv.INVALID_JSON_PARAM), a number outside the carriers' mobile segments (isv.MOBILE_NUMBER_ILLEGAL).
// Tests script flow control (`throttle`) and a vendor that does not answer (`stall`).

export interface AlibabaSent {
  phone: string;
  signName: string;
  templateCode: string;
  params: Record<string, string>;
  outId: string | null;
}

/** `throttle(n)`: the next `n` messages are refused with isv.BUSINESS_LIMIT_CONTROL (HTTP 200). */
export type FakeAlibabaSms = SmsStandIn<AlibabaSent>;

export interface FakeAlibabaOptions {
  /** AccessKey id → secret. */
  keys: Record<string, string>;
  signNames: string[];
  /** Approved template code → the variables it uses. */
  templates: Record<string, string[]>;
}

const ALGORITHM = 'ACS3-HMAC-SHA256';
const MUST_SIGN = ['host', 'x-acs-action', 'x-acs-version', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256'];

/** RFC 3986: everything but A–Z a–z 0–9 - _ . ~ percent-encoded, as the vendor's document asks. */
function percentEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The carriers' mobile number segments (号段): 154…, 160…, 141… are not mobiles though they look like one. */
export const MOBILE_SEGMENTS = /^1(3\d|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8\d|9\d)\d{8}$/;

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** The signature the vendor computes for this request and signed-header list. */
export function acs3Signature(secret: string, method: string, url: URL, headers: IncomingMessage['headers'], signedHeaders: string[], body: Buffer): string {
  const query = [...url.searchParams.entries()]
    .map(([k, v]) => [percentEncode(k), percentEncode(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${String(headers[h] ?? '').trim()}\n`).join('');
  const canonical = [method, url.pathname || '/', query, canonicalHeaders, signedHeaders.join(';'), sha256Hex(body)].join('\n');
  return createHmac('sha256', secret)
    .update(`${ALGORITHM}\n${sha256Hex(canonical)}`)
    .digest('hex');
}

export function startFakeAlibabaSms(options: FakeAlibabaOptions): Promise<FakeAlibabaSms> {
  return serveSmsStandIn<AlibabaSent>((req, body, res, { sent, refused, throttled }) => {
    function answer(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}) {
      if (code !== 'OK') refused.push(code);
      res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' });
      res.end(JSON.stringify({ RequestId: randomUUID().toUpperCase(), Code: code, Message: message, ...extra }));
    }

    const url = new URL(req.url ?? '/', 'http://local');
    const h = req.headers;
    if (req.method !== 'POST' || h['x-acs-action'] !== 'SendSms' || h['x-acs-version'] !== '2017-05-25') {
      return answer(res, 404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.');
    }
    const auth = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)$/.exec(String(h.authorization ?? ''));
    if (!auth) return answer(res, 400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards.');
    const [, keyId = '', signedList = '', signature = ''] = auth;
    const signed = signedList.split(';');
    if (MUST_SIGN.some((name) => !signed.includes(name)) || [...signed].sort().join(';') !== signedList) {
      return answer(res, 400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards.');
    }
    const date = Date.parse(String(h['x-acs-date'] ?? ''));
    if (!Number.isFinite(date) || Math.abs(Date.now() - date) > 15 * 60_000)
      return answer(res, 400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
    const secret = options.keys[keyId];
    if (secret === undefined) return answer(res, 404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
    if (h['x-acs-content-sha256'] !== sha256Hex(body) || acs3Signature(secret, 'POST', url, h, signed, body) !== signature) {
      return answer(res, 400, 'SignatureDoesNotMatch', 'Specified signature does not match our calculation.');
    }
    const q = Object.fromEntries(url.searchParams.entries());
    for (const name of ['PhoneNumbers', 'SignName', 'TemplateCode']) {
      if (!q[name]) return answer(res, 400, `Missing${name}`, `${name} is mandatory for this action.`);
    }
    if (!options.signNames.includes(q.SignName!)) return answer(res, 200, 'isv.SMS_SIGNATURE_ILLEGAL', '该账号下找不到对应签名');
    const variables = options.templates[q.TemplateCode!];
    if (!variables) return answer(res, 200, 'isv.SMS_TEMPLATE_ILLEGAL', '该账号下找不到对应模板');
    let params: Record<string, string> = {};
    try {
      const parsed: unknown = JSON.parse(q.TemplateParam ?? '{}');
      if (typeof parsed !== 'object' || parsed === null || Object.values(parsed).some((v) => typeof v !== 'string')) throw new Error('not strings');
      params = parsed as Record<string, string>;
    } catch {
      return answer(res, 200, 'isv.INVALID_JSON_PARAM', 'JSON参数不合法，只接受字符串值');
    }
    const missing = variables.filter((v) => params[v] === undefined);
    if (missing.length) return answer(res, 200, 'isv.TEMPLATE_MISSING_PARAMETERS', `模版缺少变量: ${missing.join(',')}`);
    const phone = q.PhoneNumbers!.replace(/^(\+86|0086|86)(?=1\d{10}$)/, '');
    if (!MOBILE_SEGMENTS.test(phone)) return answer(res, 200, 'isv.MOBILE_NUMBER_ILLEGAL', '非法手机号');
    if (throttled()) return answer(res, 200, 'isv.BUSINESS_LIMIT_CONTROL', '触发分钟级流控Permits:1');
    sent.push({ phone, signName: q.SignName!, templateCode: q.TemplateCode!, params, outId: q.OutId ?? null });
    return answer(res, 200, 'OK', 'OK', { BizId: `${Date.now()}^0` });
  });
}
