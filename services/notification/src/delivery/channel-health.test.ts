import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@griddispatch/observability';
import { ChannelHealth, PROBE_EVERY_MS } from './channel-health.ts';
import type { NextStep } from './retry-policy.ts';

const lines: string[] = [];
const log = createLogger({ service: 'test', level: 'info', destination: new Writable({ write: (c: Buffer, _e, done) => (lines.push(c.toString()), done()) }) });
const refusal = (scope: 'channel' | 'template') => {
  const error = scope === 'channel' ? 'alibaba SignatureDoesNotMatch: …' : 'alibaba isv.SMS_TEMPLATE_ILLEGAL: …';
  const step: NextStep = { status: 'pending', nextAttemptAt: new Date(0), refused: { reason: error, scope } };
  return [{ kind: 'disabled', statusCode: 400, error, scope } as const, step] as const;
};
const delivered = [{ kind: 'delivered', statusCode: 200 } as const, { status: 'delivered' } as const] as const;

describe('channel health', () => {
  it('holds a refused channel, lets one probe through per interval, and releases it at the first delivery', () => {
    const health = new ChannelHealth();
    expect(health.hold('sms', 'dispatch.assigned', 0)).toBeNull();
    health.note('sms', 'dispatch.assigned', ...refusal('channel'), 0, log);
    expect(health.hold('sms', 'sla.warning', 10)).toBe(PROBE_EVERY_MS + 1_000);
    expect(health.hold('wecom', null, 10)).toBeNull();
    expect(health.hold('sms', 'dispatch.assigned', PROBE_EVERY_MS)).toBeNull(); // the probe
    expect(health.hold('sms', 'dispatch.assigned', PROBE_EVERY_MS + 1)).toBe(2 * PROBE_EVERY_MS + 1_000); // the others wait for its answer
    health.note('sms', 'dispatch.assigned', ...refusal('channel'), PROBE_EVERY_MS + 50, log);
    expect(lines.filter((l) => l.includes('sms channel refused by the vendor'))).toHaveLength(1);
    health.note('sms', 'dispatch.assigned', ...delivered, PROBE_EVERY_MS + 60, log);
    expect(health.hold('sms', 'dispatch.assigned', PROBE_EVERY_MS + 70)).toBeNull();
    expect(lines.filter((l) => l.includes('accepted by the vendor again'))).toHaveLength(1);
  });

  it('a refused template holds its own kind only', () => {
    const health = new ChannelHealth();
    health.note('sms', 'sla.warning', ...refusal('template'), 0, log);
    expect(health.hold('sms', 'sla.warning', 10)).toBe(PROBE_EVERY_MS + 1_000);
    expect(health.hold('sms', 'dispatch.assigned', 10)).toBeNull();
    // a dispatch SMS delivered says nothing about the warning template
    health.note('sms', 'dispatch.assigned', ...delivered, 20, log);
    expect(health.hold('sms', 'sla.warning', 30)).toBe(PROBE_EVERY_MS + 1_000);
    expect(lines.some((l) => l.includes('sla.warning template refused by the vendor'))).toBe(true);
  });
});
