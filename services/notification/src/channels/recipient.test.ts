import { describe, expect, it } from 'vitest';
import { displayRecipient } from './recipient.ts';

describe('displayRecipient', () => {
  it('masks phone numbers and robot keys, leaves subscription ids', () => {
    expect(displayRecipient('sms', '+8613800138000')).toBe('138****8000');
    expect(displayRecipient('wecom', 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx')).toBe(
      'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a****',
    );
    expect(displayRecipient('webhook', '0b7c…')).toBe('0b7c…');
  });
});
