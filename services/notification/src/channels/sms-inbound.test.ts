import { describe, expect, it } from 'vitest';
import { InboundSmsFormatError, parseAlibabaUplink, parseTencentUplink } from './sms-inbound.ts';

// Sample bodies in the shape of the vendors' documents (Alibaba SmsUp HTTP batch push; Tencent reply callback).

describe('Alibaba SmsUp push', () => {
  it('turns the documented batch into replies: +86 numbers, Beijing send_time as an instant', () => {
    const body = [
      {
        phone_number: '13800138000',
        send_time: '2026-12-07 14:32:05',
        content: '1 K7Q2',
        sign_name: '国网后湖供电所',
        dest_code: '1234',
        sequence_id: 1234567890,
      },
      {
        phone_number: '8613900139000',
        send_time: '2026-12-08 00:05:00',
        content: '2',
        sign_name: '国网后湖供电所',
        dest_code: '1234',
        sequence_id: 1234567891,
      },
    ];
    expect(parseAlibabaUplink(body)).toEqual([
      { from: '+8613800138000', text: '1 K7Q2', at: '2026-12-07T06:32:05.000Z' },
      { from: '+8613900139000', text: '2', at: '2026-12-07T16:05:00.000Z' },
    ]);
    expect(parseAlibabaUplink([])).toEqual([]);
  });

  it('refuses what is not its format, naming the field', () => {
    expect(() => parseAlibabaUplink({ phone_number: '13800138000' })).toThrow(InboundSmsFormatError);
    expect(() => parseAlibabaUplink([{ phone_number: '13800138000', send_time: '2026-12-07T14:32:05Z', content: 'x' }])).toThrow(
      /0\.send_time: expected "yyyy-MM-dd HH:mm:ss"/,
    );
    expect(() => parseAlibabaUplink([{ phone_number: '13800138000', send_time: '2026-12-07 14:32:05' }])).toThrow(/0\.content/);
    expect(() => parseAlibabaUplink([{ phone_number: '02787654321', send_time: '2026-12-07 14:32:05', content: 'x' }])).toThrow(
      /0\.phone_number: not a mainland mobile number/,
    );
    expect(() => parseAlibabaUplink('phone_number=13800138000')).toThrow(/not an Alibaba SmsUp push/);
  });
});

describe('Tencent reply callback', () => {
  it('turns the documented reply into a reply: +86 number, Unix time as an instant', () => {
    const body = { extend: '', mobile: '13800138000', nationcode: '86', sign: '国网后湖供电所', text: '1 K7Q2', time: 1796632325 };
    expect(parseTencentUplink(body)).toEqual([{ from: '+8613800138000', text: '1 K7Q2', at: '2026-12-07T08:32:05.000Z' }]);
    expect(parseTencentUplink([body, { ...body, text: '满意 5', time: '1796632385' }]).map((r) => r.text)).toEqual(['1 K7Q2', '满意 5']);
  });

  it('refuses what is not its format, and numbers outside the mainland', () => {
    expect(() => parseTencentUplink({ mobile: '13800138000', text: 'x' })).toThrow(/not a Tencent reply callback: 0\.time/);
    expect(() => parseTencentUplink({ mobile: '13800138000', nationcode: '852', text: 'x', time: 1796632325 })).toThrow(/0\.nationcode: only mainland \(86\)/);
    expect(() => parseTencentUplink({ mobile: 'abc', nationcode: '86', text: 'x', time: 1796632325 })).toThrow(/0\.mobile: not a mainland mobile number/);
    expect(() => parseTencentUplink(null)).toThrow(InboundSmsFormatError);
  });
});
