import { z } from 'zod';
import { normalizeCnMobile } from './phone.ts';

// Replies to our SMS (上行短信) as each vendor pushes them, turned into one shape: who (a +86 mobile),
// what, when. Pure: the inbound routes call these and hand the result to the use case that reads
// replies. A body that is not the vendor's format throws an InboundSmsFormatError naming the field,
// and nothing of it is taken (the vendor pushes it again or shows the failure in its console).

export interface InboundSms {
  /** `+8613800138000`. */
  from: string;
  text: string;
  /** ISO 8601 instant. */
  at: string;
}

export class InboundSmsFormatError extends Error {
  override name = 'InboundSmsFormatError';
}

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`).join('; ');
}

function mobile(raw: string, where: string): string {
  const from = normalizeCnMobile(raw);
  if (!from) throw new InboundSmsFormatError(`${where}: not a mainland mobile number`);
  return from;
}

// Alibaba Cloud SMS, SmsUp message by HTTP batch push (上行短信 HTTP 批量推送): a JSON array,
//   [{"phone_number":"13800138000","send_time":"2026-12-07 14:32:05","content":"1 K7Q2",
//     "sign_name":"国网后湖供电所","dest_code":"1234","sequence_id":1234567890}]
// `send_time` is Beijing time without a zone; the vendor expects `{"code":0,"msg":"成功"}` back.
const AlibabaSmsUp = z.array(
  z.object({
    phone_number: z.string().min(1),
    send_time: z.string().regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, 'expected "yyyy-MM-dd HH:mm:ss" (Beijing time)'),
    content: z.string(),
    sign_name: z.string().optional(),
    dest_code: z.string().optional(),
    sequence_id: z.union([z.number(), z.string()]).optional(),
  }),
);

/** Alibaba's SmsUp batch → replies, in the order pushed. */
export function parseAlibabaUplink(body: unknown): InboundSms[] {
  const parsed = AlibabaSmsUp.safeParse(body);
  if (!parsed.success) throw new InboundSmsFormatError(`not an Alibaba SmsUp push: ${issues(parsed.error)}`);
  return parsed.data.map((m, i) => {
    const at = new Date(`${m.send_time.replace(' ', 'T')}+08:00`);
    if (Number.isNaN(at.getTime())) throw new InboundSmsFormatError(`${i}.send_time: not a date`);
    return { from: mobile(m.phone_number, `${i}.phone_number`), text: m.content, at: at.toISOString() };
  });
}

// Tencent Cloud SMS, reply callback (回复短信回调): one JSON object per reply,
//   {"extend":"","mobile":"13800138000","nationcode":"86","sign":"国网后湖供电所","text":"1 K7Q2","time":1796632325}
// `time` in Unix seconds; the vendor expects `{"result":0,"errmsg":"OK"}` back. An array of such
// objects is taken too.
const TencentReply = z.object({
  mobile: z.string().min(1),
  nationcode: z.union([z.string(), z.number()]).transform(String).optional(),
  text: z.string(),
  time: z.union([z.number().int().positive(), z.string().regex(/^\d+$/).transform(Number)]),
  sign: z.string().optional(),
  extend: z.string().optional(),
});

/** Tencent's reply callback (one reply, or a list) → replies. */
export function parseTencentUplink(body: unknown): InboundSms[] {
  const parsed = z.array(TencentReply).safeParse(Array.isArray(body) ? body : [body]);
  if (!parsed.success) throw new InboundSmsFormatError(`not a Tencent reply callback: ${issues(parsed.error)}`);
  const replies = parsed.data;
  return replies.map((r, i) => {
    if (r.nationcode !== undefined && r.nationcode !== '86')
      throw new InboundSmsFormatError(`${i}.nationcode: only mainland (86) numbers are served, got ${r.nationcode}`);
    return { from: mobile(r.mobile, `${i}.mobile`), text: r.text, at: new Date(r.time * 1000).toISOString() };
  });
}
