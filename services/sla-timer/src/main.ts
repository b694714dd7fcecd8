// Distributed mode: sla-timer alone, with Kafka, PostgreSQL and its own HTTP host (health, metrics).
import { runServiceProcess } from '@griddispatch/http';
import { buildSlaTimer } from './app.ts';
import { loadConfig } from './config.ts';

await runServiceProcess({ name: 'sla-timer', build: (deps) => buildSlaTimer({ ...deps, config: loadConfig() }) });
