import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadSampleData } from '@griddispatch/grid-routing';
import { freeKafkaPort, ownKafka, ownPostgres, type OwnKafka, type OwnPostgres } from './infra.ts';
import { freePort, ServiceProcess } from './processes.ts';

// The distributed stack the fault suite breaks: its own Kafka broker and PostgreSQL, the sample
// county loaded, and the four services as separate processes (one replica each: the suite is
// about crashes and restarts, not about spreading load), configured with an SLA policy of windows
// of seconds so warnings, breaches and escalations happen while the suite watches.

export const SERVICE_NAMES = ['intake', 'grid-routing', 'sla-timer', 'notification'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const API_KEY = 'faults-suite-secret-00001';

/**
 * Every request matches one rule: ack within 2 s, resolve within 4 s, a warning 1 s ahead of each,
 * the breach (level 1) at the deadline and an escalation (level 2) 2 s after it. So each routed
 * work order has, within 6 s of its receipt, 2 warnings and 4 breach events due.
 */
export const FAULT_POLICY = {
  timeZone: 'Asia/Shanghai',
  rules: [
    {
      name: 'faults-seconds',
      match: {},
      windows: { ack: '2s', resolve: '4s' },
      warnBefore: '1s',
      escalation: [
        { after: '0s', notify: ['manager', 'repair_crew'] },
        { after: '2s', notify: ['supervisor'] },
      ],
    },
  ],
};

export interface FaultStack {
  kafka: OwnKafka;
  postgres: OwnPostgres;
  topicPrefix: string;
  services: Record<ServiceName, ServiceProcess>;
  /** A pool on the suite's database, for the audit's queries. */
  pool: pg.Pool;
  workDir: string;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Extra environment for every service. */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

export async function startFaultStack(options: StackOptions = {}): Promise<FaultStack> {
  const log = options.log ?? (() => undefined);
  const workDir = await mkdtemp(join(tmpdir(), 'gd-faults-'));
  const topicPrefix = `faults.${Date.now().toString(36)}.`;
  // GD_FAULTS_KEEP=1 keeps the services' logs (and the policy file) for a look afterwards.
  const keep = process.env.GD_FAULTS_KEEP === '1';
  const cleanups: (() => Promise<void>)[] = [async () => (keep ? log(`kept the services' logs in ${workDir}`) : rm(workDir, { recursive: true, force: true }))];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err: unknown) => log(`cleanup: ${(err as Error).message}`));
  };
  try {
    let t = Date.now();
    const kafka = ownKafka(await freeKafkaPort(), topicPrefix);
    cleanups.push(() => kafka.destroy());
    await kafka.up();
    log(`kafka up on ${kafka.brokers} in ${Date.now() - t} ms`);

    t = Date.now();
    const postgres = await ownPostgres(await freePort());
    cleanups.push(() => postgres.destroy());
    const pool = new pg.Pool({ connectionString: postgres.url, max: 4 });
    // Connections die when the suite restarts PostgreSQL; the audit reconnects.
    pool.on('error', () => undefined);
    cleanups.push(() => pool.end());
    await loadSampleData(pool);
    log(`postgres up on ${postgres.port} with the sample county in ${Date.now() - t} ms`);

    const policyFile = join(workDir, 'sla-policy.json');
    await writeFile(policyFile, JSON.stringify(FAULT_POLICY, null, 2));

    const common: Record<string, string> = {
      DATABASE_URL: postgres.url,
      KAFKA_BROKERS: kafka.brokers,
      GD_TOPIC_PREFIX: topicPrefix,
      HOST: '127.0.0.1',
      GD_API_KEYS: `faults:${API_KEY}:admin`,
      // Service processes refuse to start without their own pepper (http/env.ts).
      GD_KEY_PEPPER: 'faults-suite-key-pepper-0123456789abcdef',
      GD_RATE_LIMIT_MAX: '0',
      GD_SLA_POLICY: policyFile,
      LOG_LEVEL: process.env.GD_FAULTS_LOG_LEVEL ?? 'info',
      // Failed webhook sends come back quickly, so the failing receiver's backlog drains in seconds.
      NOTIFY_BACKOFF_BASE_MS: '500',
      NOTIFY_BACKOFF_MAX_MS: '4000',
      GD_SLA_POLL_INTERVAL: '1s',
      // SMS goes to the log channel here (no gateway); its 50/s default would make the drain, not
      // the faults, the slow part of every scenario.
      NOTIFY_RATE_SMS: 'unlimited',
      // The test's webhook receivers listen on loopback, which production refuses (issue 17.1).
      NOTIFY_WEBHOOK_ALLOW_PRIVATE: '1',
      ...options.env,
    };
    const services = {} as Record<ServiceName, ServiceProcess>;
    for (const name of SERVICE_NAMES) {
      services[name] = new ServiceProcess({
        name,
        port: await freePort(),
        env: { ...common, PORT: '0' },
        logFile: join(workDir, `${name}.log`),
      });
      services[name].spec.env.PORT = String(services[name].spec.port);
    }
    cleanups.push(async () => {
      await Promise.all(Object.values(services).map((s) => s.stop()));
    });
    // intake first (it creates the auth schema and the topics), then the others together.
    const startOne = async (name: ServiceName) => {
      const t0 = Date.now();
      await services[name].start();
      log(`${name} ready on ${services[name].url} in ${Date.now() - t0} ms`);
    };
    await startOne('intake');
    await Promise.all(SERVICE_NAMES.filter((n) => n !== 'intake').map(startOne));
    return { kafka, postgres, topicPrefix, services, pool, workDir, close: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
