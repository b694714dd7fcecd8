import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, eventLogger, maskName, maskPhone } from './logger.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, logger: createLogger({ service: 'test', destination }) };
}

describe('logger', () => {
  it('masks names and phone numbers in fields and in messages', () => {
    const { lines, logger } = capture();
    logger.info({ customer: { name: '张三丰', phone: '13812345678' } }, 'called back 13812345678');
    expect(lines[0]).toMatchObject({ customer: { name: '张**', phone: '138****5678' }, msg: 'called back 138****5678' });
    expect(JSON.stringify(lines[0])).not.toContain('13812345678');
    expect(JSON.stringify(lines[0])).not.toContain('三丰');
  });

  it('puts the event id and work-order id on every line of an event logger', () => {
    const { lines, logger } = capture();
    const log = eventLogger(logger, { id: 'evt-1', subject: 'wo-9', type: 't' });
    log.info('one');
    log.warn({ attempt: 2 }, 'two');
    for (const line of lines) expect(line).toMatchObject({ eventId: 'evt-1', workOrderId: 'wo-9', service: 'test' });
  });

  it('masks short and international numbers sensibly', () => {
    expect(maskPhone('+86 138-1234-5678')).toBe('138****5678');
    expect(maskPhone('12345')).toBe('*****');
    expect(maskName('李')).toBe('李*');
  });
});
