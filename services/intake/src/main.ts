// Distributed mode: intake alone, with Kafka, PostgreSQL and its own HTTP host.
import { runServiceProcess } from '@griddispatch/http';
import { buildIntake } from './app.ts';
import { loadConfig } from './config.ts';

await runServiceProcess({ name: 'intake', title: 'grid-dispatch intake', build: (deps) => buildIntake({ ...deps, config: loadConfig() }) });
