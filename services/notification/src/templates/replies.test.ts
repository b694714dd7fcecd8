import { describe, expect, it } from 'vitest';
import { replyCatalog } from './replies.ts';

describe('reply messages', () => {
  it('zh-CN: the code line, the callback ask and each refusal name what the reader needs', () => {
    const zh = replyCatalog('zh-CN');
    expect(zh.ackCodeLine('K7Q2')).toBe('；回复“1 K7Q2”确认接单');
    expect(zh.callbackAsk().sms.text).toContain('回复1 已恢复供电，回复2 仍未恢复');
    expect(zh.replyError('stale_code', 'K7Q2').sms).toEqual({
      text: expect.stringContaining('确认码K7Q2已失效'),
      params: { reason: 'stale_code', code: 'K7Q2' },
    });
    expect(zh.replyError('unknown_code', 'ZZZZ').sms.text).toContain('确认码ZZZZ不存在');
    expect(zh.replyError('not_addressee', 'K7Q2').sms.text).toContain('不是发给本号码的');
    expect(zh.replyError('not_understood', null).sms).toEqual({
      text: expect.stringContaining('未能识别您的回复'),
      params: { reason: 'not_understood', code: '' },
    });
  });

  it('en: the same messages in English', () => {
    const en = replyCatalog('en');
    expect(en.ackCodeLine('K7Q2')).toBe('. Reply "1 K7Q2" to acknowledge');
    expect(en.callbackAsk().sms.text).toContain('Reply 1 if power is back, 2 if it is still out');
    expect(en.replyError('stale_code', 'K7Q2').sms.text).toContain('Code K7Q2 is no longer valid');
    expect(en.replyError('unknown_code', 'ZZZZ').sms.text).toContain('There is no code ZZZZ');
    expect(en.replyError('not_addressee', 'K7Q2').sms.text).toContain('was not sent to this number');
    expect(en.replyError('not_understood', null).sms.text).toContain('not understood');
  });
});
