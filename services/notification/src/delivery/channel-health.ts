import type { Logger } from '@griddispatch/observability';
import type { ChannelName, SendOutcome } from '../channels/types.ts';
import type { NextStep } from './retry-policy.ts';

// A channel whose vendor refuses our configuration (a wrong key, an unapproved signature or
// template, no balance) is held in this worker: its rows are put off without being sent or
// spending an attempt, and one row every PROBE_EVERY_MS goes to the vendor as the probe. Without
// this, an outage notice to 13,700 customers would be 13,700 refused calls per backoff step
// against an account the vendor already refuses. The first message the vendor accepts releases
// the channel; a restart (how a fixed configuration arrives) starts released. Per process: each
// replica finds out with its own first refused send.

/** How often a held channel lets one message through to see whether the vendor accepts it again. */
export const PROBE_EVERY_MS = 30_000;
/** Held rows come back this long after the probe was due, when its answer is normally in. */
const AFTER_PROBE_MS = 1_000;

export class ChannelHealth {
  private readonly refused = new Map<ChannelName, { reason: string; probeAt: number }>();

  /** null: send the row now (the channel is fine, or this row is the probe); else put it off to this time (ms). */
  hold(channel: ChannelName, nowMs: number): number | null {
    const state = this.refused.get(channel);
    if (!state) return null;
    if (nowMs >= state.probeAt) {
      state.probeAt = nowMs + PROBE_EVERY_MS;
      return null;
    }
    return state.probeAt + AFTER_PROBE_MS;
  }

  /** After each attempt: hold the channel on a refusal (one error line per new reason), release it on a delivery. */
  note(channel: ChannelName, outcome: SendOutcome, step: NextStep, nowMs: number, log: Logger): void {
    if (step.status === 'pending' && step.channelRefused) {
      const before = this.refused.get(channel);
      this.refused.set(channel, { reason: step.channelRefused, probeAt: Math.max(before?.probeAt ?? 0, nowMs + PROBE_EVERY_MS) });
      if (before?.reason !== step.channelRefused) {
        log.error({ reason: step.channelRefused }, `${channel} channel refused by its vendor: its messages wait (one probe every ${PROBE_EVERY_MS / 1000} s) until the configuration is fixed`);
      }
    } else if (outcome.kind === 'delivered' && this.refused.delete(channel)) {
      log.warn(`${channel} channel accepted by its vendor again`);
    }
  }
}
