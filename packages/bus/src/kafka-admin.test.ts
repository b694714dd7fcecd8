import { Writable } from 'node:stream';
import { logLevel } from 'kafkajs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { pinoLogCreator } from './kafka-admin.ts';

function capture() {
  const lines: { level: number; msg: string }[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as { level: number; msg: string });
      done();
    },
  });
  const log = pinoLogCreator(pino({ level: 'debug' }, destination))(logLevel.DEBUG);
  return { lines, log };
}

describe('kafkajs logs through pino', () => {
  it('keeps real errors errors, and a rebalance notice (a replica joined) at info', () => {
    const { lines, log } = capture();
    const entry = (message: string, extra: Record<string, unknown>) => ({ message, timestamp: '', logger: 'kafkajs', ...extra });
    log({
      namespace: 'Connection',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: entry('Response Heartbeat(key: 12, version: 3)', { error: 'The group is rebalancing, so a rejoin is needed' }),
    });
    log({
      namespace: 'Connection',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: entry('Response Produce(key: 0, version: 7)', { error: 'This server is not the leader for that topic-partition' }),
    });
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [30, 'Response Heartbeat(key: 12, version: 3)'],
      [50, 'Response Produce(key: 0, version: 7)'],
    ]);
  });
});
