import pg from 'pg';
import { generateSampleCounty } from '@griddispatch/grid';
import { startStack } from './stack.ts';
import { benchPolicy } from './ladder.ts';
import { createCallSource } from './calls.ts';
import { createPoster, runOpenLoop } from './load.ts';
import { wallNow } from './kafka.ts';
const runId = 'probe' + Math.floor(Math.random() * 1e6);
const serverUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
const stack = await startStack({ runId, brokers: ['127.0.0.1:9092'], serverUrl, scale: 1, policy: process.argv[2] === 'nopolicy' ? null : benchPolicy(3000), runDir: '/tmp/probe', say: console.log });
const c = new pg.Client({ connectionString: serverUrl });
await c.connect();
const stat = async () => (await c.query('SELECT xact_commit, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database WHERE datname = $1', [stack.database])).rows[0];
const calls = createCallSource({ county: generateSampleCounty({ seed: 1 }), mix: 'day', seed: 1, runId });
const poster = createPoster(`${stack.intakeUrl}/v1/requests/95598`, stack.apiKey, { maxSockets: 64, timeoutMs: 30000 });
const counts = new Map<string, number>();
const s0 = await stat();
let stop = false;
const sampler = (async () => {
  while (!stop) {
    const { rows } = await c.query("SELECT application_name, left(regexp_replace(query, '\\s+', ' ', 'g'), 100) AS q FROM pg_stat_activity WHERE datname = $1 AND state <> 'idle' AND pid <> pg_backend_pid()", [stack.database]);
    for (const r of rows) counts.set(`${r.application_name} | ${r.q}`, (counts.get(`${r.application_name} | ${r.q}`) ?? 0) + 1);
    await new Promise((r) => setTimeout(r, 10));
  }
})();
const t0 = Date.now();
await runOpenLoop({ ratePerSecond: 25, count: 500, startAt: wallNow() + 50, send: (_i, due) => void poster.post(calls.next(new Date()), due) });
await new Promise((r) => setTimeout(r, 5000));
stop = true;
await sampler;
const s1 = await stat();
const secs = (Date.now() - t0) / 1000;
console.log('tx/s', ((s1.xact_commit - s0.xact_commit) / secs).toFixed(0), 'ins/s', ((s1.tup_inserted - s0.tup_inserted) / secs).toFixed(0), 'upd/s', ((s1.tup_updated - s0.tup_updated) / secs).toFixed(0), 'del/s', ((s1.tup_deleted - s0.tup_deleted) / secs).toFixed(0));
for (const [k, v] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(v, k);
poster.close();
await c.end();
await stack.stop();
