import type { Logger } from '@griddispatch/observability';
import type { ChannelName, SendOutcome } from '../channels/types.ts';
import type { NextStep } from './retry-policy.ts';

// What an SMS vendor refuses as our configuration is held in this worker: a wrong key, an
// unapproved signature or no balance hold the channel; an unapproved template holds its message
// kind only (a wrong warning template must not hold the crews' dispatch SMS). Held rows are put
// off without being sent or spending an attempt, and one row every PROBE_EVERY_MS goes to the
// vendor as the probe. Without this, an outage notice to 13,700 customers would be 13,700 refused
// calls per backoff step against an account the vendor already refuses. The first message the
// vendor accepts releases the channel (and that message's kind); a restart — how a fixed
// configuration arrives — starts released. Per process: each replica finds out on its own.

/** How often a held channel (or kind) lets one message through to see whether the vendor accepts it again. */
export const PROBE_EVERY_MS = 30_000;
/** Held rows come back this long after the probe was due, when its answer is normally in. */
const AFTER_PROBE_MS = 1_000;

export class ChannelHealth {
  /** `sms` (the channel) or `sms:dispatch.assigned` (one kind's template) → why, and the next probe. */
  private readonly held = new Map<string, { reason: string; probeAt: number }>();

  /** null: send the row now (nothing holds it, or it is the probe); else put it off to this time (ms). */
  hold(channel: ChannelName, kind: string | null, nowMs: number): number | null {
    for (const key of [channel, `${channel}:${kind}`]) {
      const state = this.held.get(key);
      if (!state) continue;
      if (nowMs < state.probeAt) return state.probeAt + AFTER_PROBE_MS;
      state.probeAt = nowMs + PROBE_EVERY_MS;
      return null;
    }
    return null;
  }

  /** After each attempt: hold on a refusal (one error line per new reason), release on a delivery. */
  note(channel: ChannelName, kind: string | null, outcome: SendOutcome, step: NextStep, nowMs: number, log: Logger): void {
    if (step.status === 'pending' && step.refused) {
      const key = step.refused.scope === 'channel' ? channel : `${channel}:${kind}`;
      const before = this.held.get(key);
      this.held.set(key, { reason: step.refused.reason, probeAt: Math.max(before?.probeAt ?? 0, nowMs + PROBE_EVERY_MS) });
      if (before?.reason !== step.refused.reason) {
        const what = step.refused.scope === 'channel' ? `${channel} channel` : `${kind} template`;
        log.error(
          { reason: step.refused.reason },
          `${what} refused by the vendor: its messages wait (one probe every ${PROBE_EVERY_MS / 1000} s) until the configuration is fixed`,
        );
      }
    } else if (outcome.kind === 'delivered') {
      const released = [channel, `${channel}:${kind}`].filter((key) => this.held.delete(key));
      if (released.length) log.warn({ released }, 'accepted by the vendor again');
    }
  }
}
