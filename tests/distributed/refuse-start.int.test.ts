import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnService, type ServiceName } from './harness/processes.ts';

// A service process listens on the network with no development defaults: without keys and a
// pepper, or with a weak key, it refuses to start and says why (issue 17).

let logDir: string;
const PEPPER = 'refuse-start-test-pepper-0123456789abcdef';

beforeAll(async () => {
  logDir = await mkdtemp(join(tmpdir(), 'gd-refuse-'));
});
afterAll(async () => {
  await rm(logDir, { recursive: true, force: true });
});

async function attempt(service: ServiceName, env: Record<string, string>, n: number): Promise<{ code: number | null; log: string }> {
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    KAFKA_BROKERS: '127.0.0.1:1',
    OTEL_SDK_DISABLED: 'true',
  };
  delete base.GD_API_KEYS;
  delete base.GD_KEY_PEPPER;
  const proc = await spawnService(service, n, { ...base, ...env }, logDir);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 30_000);
  await proc.exited;
  clearTimeout(timer);
  return { code: proc.exit?.code ?? null, log: await readFile(proc.logFile, 'utf8') };
}

describe('service processes refuse to start', () => {
  it('without GD_API_KEYS (no default key), naming what is missing', async () => {
    const results = await Promise.all((['intake', 'notification'] as const).map((service, i) => attempt(service, { GD_KEY_PEPPER: PEPPER }, i + 1)));
    for (const { code, log } of results) {
      expect(code).not.toBe(0);
      expect(log).toContain('GD_API_KEYS must be set');
    }
  }, 60_000);

  it('with a weak key or the development key, naming the key; and without a pepper', async () => {
    const [weak, dev, noPepper] = await Promise.all([
      attempt(
        'grid-routing',
        { GD_KEY_PEPPER: PEPPER, GD_API_KEYS: 'ops:0123456789abcdef0123456789abcdef:admin,sgcc-95598:change-me-95598:requests:write' },
        3,
      ),
      attempt('sla-timer', { GD_KEY_PEPPER: PEPPER, GD_API_KEYS: 'dev:dev-secret:admin' }, 4),
      attempt('intake', { GD_API_KEYS: 'ops:0123456789abcdef0123456789abcdef:admin' }, 5),
    ]);
    expect(weak.code).not.toBe(0);
    expect(weak.log).toContain('GD_API_KEYS entry 2 (sgcc-95598): the secret is too short');
    expect(dev.code).not.toBe(0);
    expect(dev.log).toContain('GD_API_KEYS entry 1 (dev): the secret is too short');
    expect(noPepper.code).not.toBe(0);
    expect(noPepper.log).toContain('GD_KEY_PEPPER must be set');
  }, 60_000);
});
