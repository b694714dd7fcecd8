import { z } from 'zod';

// Which dead letters were replayed, per DLQ partition, kept in Kafka itself as the committed
// position of the consumer group `griddispatch-dlq-replay`: every offset below `committed` was
// replayed (or had expired), and the offset commit's metadata lists offsets at or above it that
// were replayed one by one (`dlq replay --offset`). So each record is replayed once, whichever
// way operators mix `--offset` and `--all`. Pure logic; dlq.ts does the Kafka part.

export const REPLAY_GROUP = 'griddispatch-dlq-replay';

/** Kafka's default `offset.metadata.max.bytes` is 4096; stay clear of it. */
export const MAX_METADATA_CHARS = 3500;

export interface ReplayState {
  committed: number;
  /** Offsets ≥ committed already replayed individually, ascending. */
  replayed: number[];
}

const Metadata = z.object({ replayed: z.array(z.number().int().min(0)) });

/** State from the group's committed offset (-1 when none) and metadata, clamped to the log start. */
export function replayState(committedOffset: number, metadata: string | null, low: number): ReplayState {
  const committed = Math.max(committedOffset, low, 0);
  let replayed: number[] = [];
  if (metadata) {
    let json: unknown = null;
    try {
      json = JSON.parse(metadata);
    } catch {
      // Someone else's metadata on our group: nothing we wrote, so nothing individually replayed.
      json = null;
    }
    const parsed = Metadata.safeParse(json);
    if (parsed.success) replayed = parsed.data.replayed;
  }
  return { committed, replayed: [...new Set(replayed.filter((o) => o >= committed))].sort((a, b) => a - b) };
}

export function isReplayed(state: ReplayState, offset: number): boolean {
  return offset < state.committed || state.replayed.includes(offset);
}

export type Selection = { all: true } | { offset: number };

export interface Plan {
  /** Offsets to replay now, ascending. */
  offsets: number[];
  /** Offsets selected but replayed before. */
  already: number[];
}

/** What `--all` or `--offset O` replays on one partition whose log spans [low, high). */
export function planReplay(state: ReplayState, low: number, high: number, selection: Selection): Plan {
  if ('offset' in selection) {
    const o = selection.offset;
    if (o < low || o >= high) return { offsets: [], already: [] };
    return isReplayed(state, o) ? { offsets: [], already: [o] } : { offsets: [o], already: [] };
  }
  const offsets: number[] = [];
  const already: number[] = [];
  // Below the committed position everything was replayed long ago: not worth listing.
  for (let o = Math.max(low, state.committed); o < high; o++) (isReplayed(state, o) ? already : offsets).push(o);
  return { offsets, already };
}

/** The state after `done` offsets were replayed: the committed position moves over every replayed offset it reaches. */
export function advance(state: ReplayState, done: number[]): ReplayState {
  const set = new Set([...state.replayed, ...done]);
  let committed = state.committed;
  while (set.has(committed)) {
    set.delete(committed);
    committed += 1;
  }
  return { committed, replayed: [...set].filter((o) => o >= committed).sort((a, b) => a - b) };
}

export function encodeMetadata(state: ReplayState): string {
  return JSON.stringify({ replayed: state.replayed });
}
