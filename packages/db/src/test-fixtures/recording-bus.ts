import { setTimeout as sleep } from 'node:timers/promises';
import type { Bus, OutgoingMessage } from '@griddispatch/bus';

export interface Published extends OutgoingMessage {
  topic: string;
}

/**
 * A Bus that records what the relay publishes. It can fail its next N publishes (as a broker that
 * is down would) and slow each publish down, to widen races between relays.
 */
export class RecordingBus implements Pick<Bus, 'publish'> {
  readonly published: Published[] = [];
  failures = 0;
  attempts = 0;
  delayMs: () => number = () => 0;

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    this.attempts += 1;
    const delay = this.delayMs();
    if (delay > 0) await sleep(delay);
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('broker not available');
    }
    for (const m of messages) this.published.push({ topic, ...m });
  }
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}
