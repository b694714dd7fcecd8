import type { ScenarioCounts } from './audit.ts';

// The counts table the suite prints after each scenario and at the end: one column per scenario.

type Row = [label: string, value: (c: ScenarioCounts) => string | number];

const sinkRows = (names: string[]): Row[] =>
  names.flatMap((name): Row[] => [
    [`webhooks ${name}: expected`, (c) => c.sinks[name]?.expected ?? '-'],
    [`  applied once (by webhook-id)`, (c) => c.sinks[name]?.applied ?? '-'],
    [`  missing / unexpected`, (c) => `${c.sinks[name]?.missing ?? '-'} / ${c.sinks[name]?.unexpected ?? '-'}`],
    [`  repeats / unrecorded sends`, (c) => `${c.sinks[name]?.repeats ?? '-'} / ${c.sinks[name]?.unrecorded ?? '-'}`],
    [`  answered 500 / bad signatures`, (c) => `${c.sinks[name]?.refused ?? '-'} / ${c.sinks[name]?.badSignatures ?? '-'}`],
  ]);

export function formatCounts(all: ScenarioCounts[]): string {
  const sinkNames = [...new Set(all.flatMap((c) => Object.keys(c.sinks)))];
  const rows: Row[] = [
    ['seconds (load+faults / to quiet)', (c) => `${c.seconds} / ${c.quietSeconds}`],
    ['requests sent', (c) => c.requests],
    ['accepted (202, distinct ids)', (c) => c.accepted],
    ['client resends / lost+rejected', (c) => `${c.resends} / ${c.lostOrRejected}`],
    ['requests.received distinct ids', (c) => c.received],
    ['  republished copies', (c) => c.receivedRepublished],
    ['dispatched distinct ids', (c) => c.dispatched],
    ['  assigned / unroutable', (c) => `${c.assigned} / ${c.unroutable}`],
    ['  twice / never / not accepted', (c) => `${c.dispatchedTwice} / ${c.notDispatched} / ${c.dispatchedNotAccepted}`],
    ['  republished copies', (c) => c.dispatchRepublished],
    ['breaches due', (c) => c.breachesDue],
    ['  emitted (wo+stage+level)', (c) => c.breachesEmitted],
    ['  twice / missing / unexpected', (c) => `${c.breachesTwice} / ${c.breachesMissing} / ${c.breachesUnexpected}`],
    ['  fired late (after downtime)', (c) => c.breachesLate],
    ['warnings (wo+stage) / twice', (c) => `${c.warnings} / ${c.warningsTwice}`],
    ...sinkRows(sinkNames),
    ['deliveries not delivered', (c) => c.deliveriesNotDelivered],
    ['DLQ records / expected poison', (c) => `${c.dlqRecords} / ${c.dlqExpected}`],
    ['DLQ unexpected or missing', (c) => c.dlqUnexpected],
    ['orphan ids (stored, never 202)', (c) => c.orphans],
  ];
  const header = ['', ...all.map((c) => c.scenario)];
  const body = rows.map(([label, value]) => [label, ...all.map((c) => String(value(c)))]);
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
