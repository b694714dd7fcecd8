import { describe, expect, it } from 'vitest';
import { advance, encodeMetadata, isReplayed, planReplay, replayState } from './dlq-state.ts';

describe('replay bookkeeping', () => {
  it('starts from the log start when the group never committed', () => {
    const state = replayState(-1, null, 3);
    expect(state).toEqual({ committed: 3, replayed: [] });
    expect(planReplay(state, 3, 7, { all: true })).toEqual({ offsets: [3, 4, 5, 6], already: [] });
  });

  it('replays each record once when --offset and --all are mixed', () => {
    let state = replayState(-1, null, 0);
    // --offset 2 first: recorded above the committed position.
    expect(planReplay(state, 0, 5, { offset: 2 })).toEqual({ offsets: [2], already: [] });
    state = advance(state, [2]);
    expect(state).toEqual({ committed: 0, replayed: [2] });
    const metadata = encodeMetadata(state);
    state = replayState(0, metadata, 0);
    expect(isReplayed(state, 2)).toBe(true);
    expect(planReplay(state, 0, 5, { offset: 2 })).toEqual({ offsets: [], already: [2] });
    // --all then replays the others only, and the position moves past everything.
    expect(planReplay(state, 0, 5, { all: true })).toEqual({ offsets: [0, 1, 3, 4], already: [2] });
    state = advance(state, [0, 1, 3, 4]);
    expect(state).toEqual({ committed: 5, replayed: [] });
    // New dead letters later: only those.
    expect(planReplay(state, 0, 7, { all: true })).toEqual({ offsets: [5, 6], already: [] });
  });

  it('moves the committed position over individually replayed offsets it reaches', () => {
    const state = advance({ committed: 4, replayed: [5, 6, 9] }, [4]);
    expect(state).toEqual({ committed: 7, replayed: [9] });
  });

  it('ignores offsets outside the retained log and metadata it did not write', () => {
    expect(planReplay(replayState(-1, null, 10), 10, 12, { offset: 3 })).toEqual({ offsets: [], already: [] });
    expect(replayState(4, 'written by someone else', 0)).toEqual({ committed: 4, replayed: [] });
    expect(replayState(4, JSON.stringify({ replayed: [1, 6, 6] }), 0)).toEqual({ committed: 4, replayed: [6] });
    // Retention removed offsets below 8: they count as done.
    expect(replayState(2, null, 8).committed).toBe(8);
  });
});
