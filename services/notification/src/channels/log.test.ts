import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@griddispatch/observability';
import { createLogChannel } from './log.ts';

describe('log channel', () => {
  it('writes the message as one log line, phone numbers masked', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const channel = createLogChannel(createLogger({ service: 'notification', level: 'info', destination }));
    const outcome = await channel.send({
      deliveryId: 'd-1',
      recipient: 'desk:综合管控平台',
      payload: { channel: 'log', text: '【无法派单】工单ABCD 联系 13800138000' },
      now: new Date(),
    });
    // a log line reaches nobody: recorded as logged, never delivered
    expect(outcome).toEqual({ kind: 'logged', statusCode: null });
    const line = JSON.parse(lines[0]!) as { msg: string; recipient: string; deliveryId: string };
    expect(line).toMatchObject({ recipient: 'desk:综合管控平台', deliveryId: 'd-1' });
    expect(line.msg).toBe('【无法派单】工单ABCD 联系 138****8000');
  });

  it('stands in for SMS when no vendor is configured, saying so, and records logged, not delivered', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const channel = createLogChannel(createLogger({ service: 'notification', level: 'info', destination }), 'sms');
    expect(channel.name).toBe('sms');
    const outcome = await channel.send({
      deliveryId: 'd-2',
      recipient: '+8613800138000',
      payload: { channel: 'sms', templateId: null, params: {}, text: '【抢修派单】后湖3号网格' },
      now: new Date(),
    });
    const line = JSON.parse(lines[0]!) as { msg: string; recipient: string };
    expect(line.recipient).toBe('138****8000');
    expect(line.msg).toMatch(/^SMS not sent \(no SMS vendor configured: NOTIFY_SMS_VENDOR \/ NOTIFY_SMS_URL\) 【抢修派单】/);
    expect(outcome).toEqual({ kind: 'logged', statusCode: null });
  });
});
