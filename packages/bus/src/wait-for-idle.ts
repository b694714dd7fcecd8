import type { Bus, ConsumerLag } from './types.ts';

export interface WaitForIdleOptions {
  /** Give up (and throw, naming the lagging partitions) after this long. Default 15 s. */
  timeoutMs?: number;
  /** Between two lag checks. Default 25 ms in process, 100 ms against Kafka. */
  pollMs?: number;
  /**
   * How long the bus must stay idle before this resolves. Catches work that a handler starts
   * after committing (an outbox relay publishing a moment later). Default 0.
   */
  settleMs?: number;
  /** Only these consumer groups count. Default: every group subscribed through `bus`. */
  groupIds?: string[];
}

export class BusNotIdleError extends Error {
  override name = 'BusNotIdleError';
  constructor(readonly lagging: ConsumerLag[]) {
    super(
      `consumers still lagging: ${lagging
        .slice(0, 10)
        .map((l) => `${l.groupId} ${l.topic}[${l.partition}] committed ${l.committed}/${l.end}`)
        .join(', ')}${lagging.length > 10 ? ` (+${lagging.length - 10} more)` : ''}`,
    );
  }
}

/**
 * Resolves once every consumer group subscribed through `bus` has committed everything
 * published to its topics (lag 0 on every partition), i.e. all handlers ran and the bus is
 * quiet. For tests: publish, `await waitForIdle(bus)`, then assert on the effects.
 */
export async function waitForIdle(bus: Bus, options: WaitForIdleOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const pollMs = options.pollMs ?? (bus.kind === 'kafka' ? 100 : 25);
  const settleMs = options.settleMs ?? 0;
  const deadline = Date.now() + timeoutMs;
  let idleSince: number | null = null;
  for (;;) {
    const lagging = (await bus.consumerLag()).filter((l) => l.lag > 0 && (!options.groupIds || options.groupIds.includes(l.groupId)));
    const now = Date.now();
    if (lagging.length === 0) {
      idleSince ??= now;
      if (now - idleSince >= settleMs) return;
    } else {
      idleSince = null;
    }
    if (now >= deadline + (lagging.length === 0 ? settleMs : 0)) throw new BusNotIdleError(lagging);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Total records not yet handled, per consumer group (for metrics and test diagnostics). */
export async function lagByGroup(bus: Bus): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  for (const l of await bus.consumerLag()) totals[l.groupId] = (totals[l.groupId] ?? 0) + l.lag;
  return totals;
}
