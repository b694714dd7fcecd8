import { mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { IMPORT_FILE_NAMES, formatProblems, generateSampleCounty, toImportFiles } from '@griddispatch/grid';
import { importData, importFilesIn, type ImportFiles, type ImportKind, type ImportProgress } from '@griddispatch/grid-routing';
import { createLogger } from '@griddispatch/observability';
import { openDatabase } from '../database.ts';
import { CliEnv } from '../env.ts';
import { intOption, runCommand, UsageError, type CliIo, type Command } from './io.ts';

export const IMPORT_USAGE = `usage: griddispatch import <dir | file…>
       griddispatch import --sample <dir> [--scale N]

Loads a station's grids and registers into grid-routing: ${Object.values(IMPORT_FILE_NAMES).join(', ')}
(see packages/grid/README.md for the formats). Everything is checked first, against the files and
the stored data; any problem is reported with its file and line and NOTHING is applied. Re-importing
updates records in place; a running router picks the change up without restart.

  --sample <dir>   write the sample county in the import formats to <dir> (to start from, or to see the formats)
  --scale N        with --sample: multiply the county (default 1)

The database: DATABASE_URL, else the embedded one under GD_DATA_DIR (a running \`griddispatch start\` is shared).
`;

const KIND_BY_FILE = new Map(Object.entries(IMPORT_FILE_NAMES).map(([kind, file]) => [file, kind as ImportKind]));

async function filesFrom(paths: string[]): Promise<ImportFiles> {
  if (paths.length === 1 && (await stat(paths[0]!).catch(() => null))?.isDirectory()) return importFilesIn(paths[0]!);
  const files: ImportFiles = {};
  for (const path of paths) {
    const kind = KIND_BY_FILE.get(basename(path));
    if (!kind) throw new UsageError(`${path}: not an import file name (expected one of ${[...KIND_BY_FILE.keys()].join(', ')})`);
    files[kind] = path;
  }
  return files;
}

function progressLine(p: ImportProgress): string {
  switch (p.phase) {
    case 'read':
      return `read   ${p.file}: ${p.rows.toLocaleString('en-US')} rows (${(p.bytes / 1e6).toFixed(1)} MB)`;
    case 'check':
      return `check  ${p.files} file(s) against each other and the stored data`;
    case 'apply':
      return `apply  ${p.file}: ${p.rows.toLocaleString('en-US')} / ${p.total.toLocaleString('en-US')}`;
    case 'done':
      return `done   data version ${p.version}`;
  }
}

async function writeSample(dir: string, scale: number, io: CliIo): Promise<number> {
  await mkdir(dir, { recursive: true });
  const files = toImportFiles(generateSampleCounty({ seed: 1, scale }));
  for (const [kind, text] of Object.entries(files) as [ImportKind, string][]) {
    await writeFile(join(dir, IMPORT_FILE_NAMES[kind]), text);
    io.stdout.write(`wrote ${join(dir, IMPORT_FILE_NAMES[kind])}\n`);
  }
  return 0;
}

const IMPORT_OPTIONS = { sample: { type: 'string' }, scale: { type: 'string' } } as const;

export const importCommand: Command = (args, io) =>
  runCommand(io, IMPORT_USAGE, args, IMPORT_OPTIONS, async (parsed) => {
    const { values, positionals } = parsed;
    if (values.sample !== undefined) return writeSample(values.sample, intOption('scale', values.scale, 1, { min: 1, max: 100 }), io);
    if (positionals.length === 0) throw new UsageError('give a directory or the files to import');
    const files = await filesFrom(positionals);

    const env = CliEnv.safeParse(io.env);
    if (!env.success) throw new UsageError(`invalid environment: ${env.error.issues.map((i) => i.message).join('; ')}`);
    const db = await openDatabase(env.data, createLogger({ service: 'griddispatch-import', level: 'warn' }));
    try {
      io.stderr.write(`database: ${db.kind}\n`);
      const report = await importData(db.pool, files, { onProgress: (p) => io.stderr.write(`${progressLine(p)}\n`) });
      if (!report.ok) {
        io.stderr.write(`${formatProblems(report.problems)}\n\n${report.problems.length} problem(s): nothing was imported\n`);
        return 1;
      }
      for (const [kind, c] of Object.entries(report.counts)) {
        io.stdout.write(`${kind.padEnd(12)} ${c.inserted} new, ${c.updated} updated, ${c.unchanged} unchanged${c.removed ? `, ${c.removed} replaced` : ''}\n`);
      }
      return 0;
    } finally {
      await db.close();
    }
  });
