// Distributed mode: grid-routing alone, with Kafka, PostgreSQL and its own HTTP host.
import { runServiceProcess } from '@griddispatch/http';
import { buildGridRouting } from './app.ts';
import { loadConfig } from './config.ts';
import { loadSampleData } from './use-cases/load-sample-data.ts';

await runServiceProcess({
  name: 'grid-routing',
  build: (deps) => buildGridRouting({ ...deps, config: loadConfig() }),
  // GD_SAMPLE_DATA=1 (local stacks, demos): an empty routing schema gets the sample county (docs/architecture.md#sample-data).
  prepare: async ({ pool, logger }) => {
    if (process.env.GD_SAMPLE_DATA === '1') await loadSampleData(pool, { logger });
  },
});
