import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@griddispatch/observability';
import { ChannelHealth, PROBE_EVERY_MS } from './channel-health.ts';

const lines: string[] = [];
const log = createLogger({ service: 'test', level: 'info', destination: new Writable({ write: (c: Buffer, _e, done) => (lines.push(c.toString()), done()) }) });
const refused = { kind: 'disabled', statusCode: 400, error: 'alibaba SignatureDoesNotMatch: …' } as const;
const waiting = { status: 'pending', nextAttemptAt: new Date(0), channelRefused: refused.error } as const;

describe('channel health', () => {
  it('holds a refused channel, lets one probe through per interval, and releases it at the first delivery', () => {
    const health = new ChannelHealth();
    expect(health.hold('sms', 0)).toBeNull();
    health.note('sms', refused, waiting, 0, log);
    expect(health.hold('sms', 10)).toBe(PROBE_EVERY_MS + 1_000);
    expect(health.hold('wecom', 10)).toBeNull();
    expect(health.hold('sms', PROBE_EVERY_MS)).toBeNull(); // the probe
    expect(health.hold('sms', PROBE_EVERY_MS + 1)).toBe(2 * PROBE_EVERY_MS + 1_000); // the others wait for its answer
    health.note('sms', refused, waiting, PROBE_EVERY_MS + 50, log);
    expect(lines.filter((l) => l.includes('sms channel refused by its vendor'))).toHaveLength(1);
    health.note('sms', { kind: 'delivered', statusCode: 200 }, { status: 'delivered' }, PROBE_EVERY_MS + 60, log);
    expect(health.hold('sms', PROBE_EVERY_MS + 70)).toBeNull();
    expect(lines.filter((l) => l.includes('sms channel accepted by its vendor again'))).toHaveLength(1);
  });
});
