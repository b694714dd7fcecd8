import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';

// Where results go: bench/results/<name>-<timestamp>.json and <name>-latest.json (both
// gitignored), plus the markdown and SVG that are committed for one good run.

export const RESULTS_DIR = new URL('../results/', import.meta.url).pathname;

export function machineInfo(): { cpus: number; cpu: string; memoryGb: number; node: string; loadavg: number[] } {
  return {
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** `2026-11-23T20-31-05Z`: sortable and safe in file names. */
export function timestamp(at = new Date()): string {
  return at
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
}

export function writeResults(name: string, result: object, at = new Date()): { file: string; latest: string } {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const text = `${JSON.stringify(result, null, 2)}\n`;
  const file = join(RESULTS_DIR, `${name}-${timestamp(at)}.json`);
  const latest = join(RESULTS_DIR, `${name}-latest.json`);
  writeFileSync(file, text);
  writeFileSync(latest, text);
  return { file, latest };
}

export function writeText(fileName: string, text: string): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, fileName);
  writeFileSync(path, text);
  return path;
}
