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
    expect(outcome).toEqual({ kind: 'delivered', statusCode: null });
    const line = JSON.parse(lines[0]!) as { msg: string; recipient: string; deliveryId: string };
    expect(line).toMatchObject({ recipient: 'desk:综合管控平台', deliveryId: 'd-1' });
    expect(line.msg).toBe('【无法派单】工单ABCD 联系 138****8000');
  });
});
