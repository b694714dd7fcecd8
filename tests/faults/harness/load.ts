import { setTimeout as sleep } from 'node:timers/promises';
import type { CreateRequestBody } from '@griddispatch/contracts';
import type { RequestGenerator } from '@griddispatch/cli/simulate-plan';
import { dueCount, plannedCount } from '@griddispatch/cli/simulate-plan';

// Open-loop load on intake's POST /v1/requests, the way `griddispatch simulate` sends it (same
// generator, same schedule fixed by the clock), plus what a real source system does when intake
// is away: it resends the same request (same source + externalId) until it gets an answer. So
// every request the suite sends ends up accepted — intake stores it once and answers the same id
// to every resend — and "accepted" is exactly the set of ids a source system holds.

export interface LoadOptions {
  intakeUrl: () => string;
  apiKey: string;
  generator: RequestGenerator;
  ratePerSecond: number;
  durationMs: number;
  /** Give up resending a request this long after the load ended (then it counts as lost). */
  resendForMs?: number;
}

export interface LoadResult {
  planned: number;
  /** Distinct requests sent (the generator's own resends of earlier requests not counted). */
  requests: number;
  /** Request ids answered 202, by externalId. */
  accepted: Map<string, string>;
  /** 202 with duplicate=true: the generator's resends and the resends after a lost answer. */
  duplicateAnswers: number;
  /** Resends after a network error, a 5xx or a 429. */
  resends: number;
  /** Failed attempts by cause (`ECONNREFUSED`, `503`, …). */
  failures: Map<string, number>;
  /** Requests never accepted (gave up), and 4xx answers other than 429 (a bug). */
  lost: string[];
  rejected: { externalId: string; status: number; body: string }[];
  /** An externalId answered with two different ids: the idempotency key did not hold. */
  idConflicts: string[];
}

export interface RunningLoad {
  /** Resolves when every request was answered (or given up on). */
  done: Promise<LoadResult>;
  /** Requests due so far. */
  sent(): number;
}

function failureKind(err: unknown): string {
  const e = err as { cause?: { code?: string }; name?: string; code?: string };
  return e.cause?.code ?? e.code ?? e.name ?? 'error';
}

export function startLoad(options: LoadOptions): RunningLoad {
  const planned = plannedCount(options.ratePerSecond, options.durationMs);
  const result: LoadResult = {
    planned,
    requests: 0,
    accepted: new Map(),
    duplicateAnswers: 0,
    resends: 0,
    failures: new Map(),
    lost: [],
    rejected: [],
    idConflicts: [],
  };
  const inFlight = new Set<Promise<void>>();
  let giveUpAt = Number.POSITIVE_INFINITY;
  let due = 0;

  async function send(body: CreateRequestBody): Promise<void> {
    const payload = JSON.stringify(body);
    for (let attempt = 1; ; attempt += 1) {
      let kind: string;
      try {
        const res = await fetch(`${options.intakeUrl()}/v1/requests`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${options.apiKey}` },
          body: payload,
          signal: AbortSignal.timeout(15_000),
        });
        const text = await res.text();
        if (res.status === 202) {
          const answer = JSON.parse(text) as { id: string; duplicate: boolean };
          const known = result.accepted.get(body.externalId);
          if (known !== undefined && known !== answer.id) result.idConflicts.push(body.externalId);
          result.accepted.set(body.externalId, answer.id);
          if (answer.duplicate) result.duplicateAnswers += 1;
          return;
        }
        if (res.status < 500 && res.status !== 429) {
          result.rejected.push({ externalId: body.externalId, status: res.status, body: text.slice(0, 300) });
          return;
        }
        kind = String(res.status);
      } catch (err) {
        kind = failureKind(err);
      }
      result.failures.set(kind, (result.failures.get(kind) ?? 0) + 1);
      if (Date.now() > giveUpAt) {
        result.lost.push(body.externalId);
        return;
      }
      result.resends += 1;
      await sleep(Math.min(2_000, 100 * 2 ** Math.min(attempt, 5)));
    }
  }

  const done = (async () => {
    const started = Date.now();
    while (due < planned) {
      const now = Date.now();
      const target = dueCount(now - started, options.ratePerSecond, planned);
      for (; due < target; due += 1) {
        const next = options.generator.next(new Date());
        if (!next.retry) result.requests += 1;
        const p: Promise<void> = send(next.body).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await sleep(Math.max(1, Math.min(50, 1000 / options.ratePerSecond)));
    }
    giveUpAt = Date.now() + (options.resendForMs ?? 120_000);
    while (inFlight.size > 0) await Promise.all([...inFlight]);
    return result;
  })();

  return { done, sent: () => due };
}
