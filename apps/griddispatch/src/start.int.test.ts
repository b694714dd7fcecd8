import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The README's first command, for real: a child process running `griddispatch start` with no
// DATABASE_URL and no KAFKA_BROKERS, so it starts its own PostgreSQL and in-process bus.

const root = new URL('../../../', import.meta.url).pathname;
const port = 18_000 + Math.floor(Math.random() * 2000);
const base = `http://127.0.0.1:${port}`;
const auth = { authorization: 'Bearer dev-secret', 'content-type': 'application/json' };
let child: ChildProcess | undefined;
let dataDir = '';
let output = '';

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child?.exitCode !== null) throw new Error(`griddispatch exited with ${child?.exitCode}; output:\n${output.slice(-4000)}`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms; output:\n${output.slice(-4000)}`);
}

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('griddispatch start (embedded)', () => {
  it('comes up with its own database and the sample county, dispatches, and stops cleanly on SIGTERM', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gd-start-'));
    await chmod(dataDir, 0o755); // as root, PostgreSQL runs as the postgres user, which must reach it
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), GD_DATA_DIR: dataDir, GD_EMBEDDED_PG_PORT: String(port + 1), LOG_LEVEL: 'info' };
    delete env.DATABASE_URL;
    delete env.KAFKA_BROKERS;
    delete env.GD_API_KEYS;
    child = spawn(process.execPath, ['--import', 'tsx', 'apps/griddispatch/src/main.ts', 'start'], { cwd: root, env });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));

    await until(async () => (await fetch(`${base}/healthz`)).ok, 90_000);
    await until(async () => (await fetch(`${base}/readyz`)).ok, 30_000);

    const post = await fetch(`${base}/v1/requests`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ source: '12345', externalId: 'start-1', category: 'complaint', location: { districtCode: 'HH-TQ-001' } }),
    });
    expect(post.status).toBe(202);
    const { id } = (await post.json()) as { id: string };
    await until(async () => {
      const res = await fetch(`${base}/v1/requests/${id}`, { headers: auth });
      return ((await res.json()) as { status: string }).status === 'assigned';
    }, 20_000);

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('development key');
  }, 180_000);
});
