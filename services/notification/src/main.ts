// Distributed mode: notification alone, with Kafka, PostgreSQL and its own HTTP host.
import { runServiceProcess } from '@griddispatch/http';
import { buildNotification } from './app.ts';
import { loadConfig } from './config.ts';

await runServiceProcess({ name: 'notification', build: (deps) => buildNotification({ ...deps, config: loadConfig() }) });
