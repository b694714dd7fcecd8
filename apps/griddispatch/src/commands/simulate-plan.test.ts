import { beforeAll, describe, expect, it } from 'vitest';
import { CreateRequestBody } from '@griddispatch/contracts';
import { generateSampleCounty, type SampleCounty } from '@griddispatch/grid';
import {
  createRequestGenerator,
  dueCount,
  formatProgress,
  formatSummary,
  percentile,
  plannedCount,
  scheduledAt,
  SimStats,
  type SimRequest,
} from './simulate-plan.ts';

let county: SampleCounty;
beforeAll(() => {
  county = generateSampleCounty({ seed: 1 });
});

const NOW = new Date('2026-08-12T03:00:00Z');
const take = (n: number, storm: boolean, source: '95598' | '12345' = '95598', seed = 7): SimRequest[] => {
  const g = createRequestGenerator({ county, seed, storm, source, runId: 'r1' });
  return Array.from({ length: n }, (_, i) => g.next(new Date(NOW.getTime() + i * 1000)));
};

describe('open-loop schedule', () => {
  it('sends rate × duration requests, evenly spaced by the clock', () => {
    expect(plannedCount(50, 30_000)).toBe(1500);
    expect(plannedCount(0.5, 10_000)).toBe(5);
    expect(plannedCount(3, 100)).toBe(0);
    expect(scheduledAt(0, 50)).toBe(0);
    expect(scheduledAt(10, 50)).toBe(200);
  });

  it('makes requests due by elapsed time alone, so a stall is caught up at once and never lowers the rate', () => {
    expect(dueCount(0, 10, 100)).toBe(1);
    expect(dueCount(99, 10, 100)).toBe(1);
    expect(dueCount(100, 10, 100)).toBe(2);
    // A 2-second stall (slow server, busy loop): the 20 requests due meanwhile are all due now.
    expect(dueCount(2_050, 10, 100)).toBe(21);
    expect(dueCount(60_000, 10, 100)).toBe(100);
    expect(dueCount(-5, 10, 100)).toBe(0);
  });
});

describe('requests', () => {
  it('are valid API bodies on the sample county’s real 台区 and accounts', () => {
    const districts = new Set(county.districts.map((d) => d.code));
    const accounts = new Map(county.customers.map((c) => [c.accountNo, c.districtCode]));
    for (const { body } of take(500, false)) {
      expect(CreateRequestBody.safeParse(body).success).toBe(true);
      expect(districts.has(body.location.districtCode!)).toBe(true);
      expect(accounts.get(body.customer!.accountNo!)).toBe(body.location.districtCode);
    }
  });

  it('from 12345 carry the position inside the 台区’s grid and a community code, and stay valid', () => {
    const communities = new Set(county.communities.map((c) => c.code));
    for (const { body } of take(300, false, '12345')) {
      expect(CreateRequestBody.safeParse(body).success).toBe(true);
      expect(body.source).toBe('12345');
      expect(body.location.lon).toBeTypeOf('number');
      expect(communities.has(body.location.communityCode!)).toBe(true);
    }
  });

  it('mix categories like a county’s day, and resend a few requests unchanged (duplicates)', () => {
    const requests = take(2000, false);
    const faults = requests.filter((r) => r.body.category === 'fault_repair').length / requests.length;
    expect(faults).toBeGreaterThan(0.35);
    expect(faults).toBeLessThan(0.55);
    expect(new Set(requests.map((r) => r.body.category)).size).toBe(7);
    const retries = requests.filter((r) => r.retry);
    expect(retries.length).toBeGreaterThan(10);
    const firstSent = new Map(requests.filter((r) => !r.retry).map((r) => [r.body.externalId, JSON.stringify(r.body)]));
    for (const r of retries) expect(firstSent.get(r.body.externalId)).toBe(JSON.stringify(r.body));
    expect(firstSent.size).toBe(requests.length - retries.length);
  });

  it('are the same stream for the same seed', () => {
    expect(take(50, true, '95598', 42).map((r) => r.body)).toEqual(take(50, true, '95598', 42).map((r) => r.body));
    expect(take(50, true, '95598', 43).map((r) => r.body)).not.toEqual(take(50, true, '95598', 42).map((r) => r.body));
  });
});

describe('storm', () => {
  it('clusters fault calls on the 台区 of 2–3 feeders, with many repeated calls from the same 台区 within minutes', () => {
    const g = createRequestGenerator({ county, seed: 11, storm: true, source: '95598', runId: 'r1' });
    expect(g.stormFeeders.length).toBeGreaterThanOrEqual(2);
    expect(g.stormFeeders.length).toBeLessThanOrEqual(3);
    // Ten minutes of a surge at 2 calls per second.
    const calls = Array.from({ length: 1200 }, (_, i) => g.next(new Date(NOW.getTime() + i * 500))).filter((r) => !r.retry);
    const faults = calls.filter((r) => r.body.category === 'fault_repair').length / calls.length;
    expect(faults).toBeGreaterThan(0.85);

    const byFeeder = new Map<string, number>();
    for (const r of calls) byFeeder.set(r.feederCode, (byFeeder.get(r.feederCode) ?? 0) + 1);
    const stormCodes = g.stormFeeders.map((f) => /\(([^)]+)\)$/.exec(f)![1]!);
    const onStormFeeders = stormCodes.reduce((n, code) => n + (byFeeder.get(code) ?? 0), 0);
    expect(onStormFeeders / calls.length).toBeGreaterThan(0.7);

    // The busiest 台区 calls again and again within the first five minutes.
    const firstFive = calls.slice(0, 600);
    const perDistrict = new Map<string, number>();
    for (const r of firstFive) perDistrict.set(r.body.location.districtCode!, (perDistrict.get(r.body.location.districtCode!) ?? 0) + 1);
    const busiest = Math.max(...perDistrict.values());
    expect(busiest).toBeGreaterThanOrEqual(20);
    const repeated = [...perDistrict.values()].filter((n) => n >= 5).length;
    expect(repeated).toBeGreaterThanOrEqual(10);
  });

  it('puts aquaculture farms first among the callers on the lake station, and marks them urgent', () => {
    // The first seed whose typhoon hits 后湖 (the station with the fish farms).
    const seed = Array.from({ length: 50 }, (_, i) => i + 1).find((s) =>
      createRequestGenerator({ county, seed: s, storm: true, source: '95598', runId: 'r1' }).stormFeeders.some((f) => f.includes('(HH-')),
    )!;
    const calls = take(600, true, '95598', seed).filter((r) => r.body.category === 'fault_repair' && r.body.location.districtCode!.startsWith('HH-'));
    const farms = calls.filter((r) => r.body.customer?.classes?.includes('aquaculture'));
    const houhu = county.customers.filter((c) => c.districtCode.startsWith('HH-'));
    const baseShare = houhu.filter((c) => c.classes.includes('aquaculture')).length / houhu.length;
    expect(farms.length / calls.length).toBeGreaterThan(2 * baseShare);
    for (const r of farms) expect(r.body.urgency).toBe('urgent');
  });
});

describe('summary', () => {
  it('counts accepted, duplicates and errors by status, with latency percentiles', () => {
    const stats = new SimStats(10);
    stats.sent = 10;
    const latencies = [12, 15, 11, 40, 13, 14, 16, 18];
    for (const l of latencies.slice(0, 6)) stats.record({ status: 202, duplicate: false, latencyMs: l });
    stats.record({ status: 202, duplicate: true, latencyMs: 16 });
    stats.record({ status: 429, latencyMs: 18 });
    stats.record({ status: 'ECONNRESET', latencyMs: 3000 });
    // Answers took half a second longer than the sending.
    const s = stats.summary(1500, 1000);
    expect(s).toMatchObject({ planned: 10, sent: 10, completed: 9, accepted: 6, duplicates: 1, errors: 2 });
    expect(s.errorsByStatus).toEqual([
      ['429', 1],
      ['ECONNRESET', 1],
    ]);
    // Network failures have no response time; the 8 answers: 11 12 13 14 15 16 18 40.
    expect(s.latency).toEqual({ p50: 14, p99: 40, max: 40 });

    const text = formatSummary(s, { ratePerSecond: 10, stormFeeders: ['10kV湖滨线 (HH-10kV-01)'], url: 'http://127.0.0.1:8080' });
    expect(text).toContain('10 of 10 requests sent to http://127.0.0.1:8080 in 1.5s (target 10/s, achieved 10.0/s)');
    expect(text).toContain('accepted 202   6');
    expect(text).toContain('duplicates     1');
    expect(text).toContain('errors         2   (429 ×1, ECONNRESET ×1)');
    expect(text).toContain('no answer      1');
    expect(text).toContain('p50 14 ms · p99 40 ms · max 40 ms');
    expect(text).toContain('storm on       10kV湖滨线 (HH-10kV-01)');
    expect(text).toContain('GD_RATE_LIMIT_MAX=0');
  });

  it('uses nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBe(0);
  });

  it('draws a progress bar on a terminal and a plain line in logs', () => {
    const snapshot = { planned: 100, sent: 50, completed: 45, accepted: 44, errors: 1, inFlight: 5 };
    expect(formatProgress(snapshot, 5_000, 10_000, true)).toBe(
      '[###############...............]  50% 50/100 sent · 44 accepted · 1 errors · 5 in flight · 5s left',
    );
    expect(formatProgress(snapshot, 5_000, 10_000, false)).toBe('simulate: 5s 50/100 sent · 44 accepted · 1 errors · 5 in flight · 5s left');
  });
});
