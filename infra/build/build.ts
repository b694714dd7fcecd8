// `pnpm build`: the services and the CLI compiled to plain JavaScript in dist/, so production (and
// `pnpm start`, `pnpm stack:up`, the Docker image) runs node on JavaScript with no TypeScript
// loader in the process (issue 12). esbuild bundles each entry point together with our workspace
// packages; third-party packages stay imports, resolved from node_modules at run time.
//
// Files our code reads next to itself (`new URL('./migrations/', import.meta.url)`: SQL
// migrations, topics.json, the board's HTML) are found by scanning the sources, and copied to
// dist/ under their repository paths; each module's `import.meta.url` is rewritten to its
// repository path under dist/, so every such URL resolves to the copy. dist/ is therefore
// self-contained: dist/ plus a production `node_modules` is all a runtime needs.
//
// Writes only files whose content changed, each by rename, so a process starting from dist/
// while another `pnpm start` rebuilds never reads half a file. Tests keep running on sources.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DIST = join(ROOT, 'dist');

/** dist/<name>.js ← source. */
export const ENTRY_POINTS: Record<string, string> = {
  griddispatch: 'apps/griddispatch/src/main.ts',
  intake: 'services/intake/src/main.ts',
  'grid-routing': 'services/grid-routing/src/main.ts',
  'sla-timer': 'services/sla-timer/src/main.ts',
  notification: 'services/notification/src/main.ts',
};

const WORKSPACE_SCOPE = '@griddispatch/';
const ASSET_URL = /new URL\(\s*(['"`])([^'"`$]+)\1\s*,\s*import\.meta\.url\s*\)/g;
// Ways of finding files that the rewrite above does not cover: refuse them rather than ship a
// bundle that looks for its files in the wrong place.
const UNSUPPORTED = /\b(__dirname|__filename)\b|import\.meta\.(dirname|filename|resolve)\b/;
// Chunks shared by entry points are named `<name>-<hash>.js`; entry points have no hash.
const CHUNK_FILE = /-[A-Z0-9]{8}\.js(\.map)?$/;
const STALE_CHUNK_MS = 10 * 60_000;

export interface BuildResult {
  /** Files written or replaced in dist/ (unchanged ones are left alone). */
  changed: number;
  files: number;
  ms: number;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** Bundles workspace code, leaves everything else external, and records the files it reads. */
function workspacePlugin(assets: Map<string, string>): Plugin {
  const builtins = new Set(builtinModules);
  return {
    name: 'griddispatch-workspace',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith(WORKSPACE_SCOPE)) return undefined;
        if (args.path.startsWith('node:') || builtins.has(args.path)) return { path: args.path, external: true, sideEffects: false };
        return { path: args.path, external: true };
      });
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        const source = readFileSync(args.path, 'utf8');
        const where = relative(ROOT, args.path);
        const unsupported = UNSUPPORTED.exec(source);
        if (unsupported) return { errors: [{ text: `${where} uses ${unsupported[0]}, which the build cannot map; use new URL('…', import.meta.url)` }] };
        if (!source.includes('import.meta.url')) return undefined;
        for (const match of source.matchAll(ASSET_URL)) {
          const target = resolve(dirname(args.path), match[2] as string);
          if (!existsSync(target)) return { errors: [{ text: `${where} reads ${relative(ROOT, target)}, which does not exist` }] };
          assets.set(target, where);
        }
        const self = JSON.stringify(`./${where.split(sep).join('/')}`);
        return { contents: source.replaceAll('import.meta.url', `new URL(${self}, import.meta.url).href`), loader: 'ts' };
      });
    },
  };
}

/** Every third-party package the bundles import must be a production dependency of the root. */
function checkExternals(metafile: Metafile): void {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const production = new Set(Object.keys(manifest.dependencies ?? {}));
  const builtins = new Set(builtinModules);
  const missing = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const imported of output.imports) {
      if (!imported.external || imported.path.startsWith('node:') || builtins.has(imported.path) || !/^[^./]/.test(imported.path)) continue;
      const name = packageName(imported.path);
      if (!production.has(name)) missing.add(name);
    }
  }
  if (missing.size > 0) {
    throw new Error(`dist/ imports ${[...missing].sort().join(', ')}, not in package.json "dependencies": a production install would lack them`);
  }
}

/** Writes `contents` to `path` unless it already holds exactly that; by rename, never in place. */
function writeIfChanged(path: string, contents: Uint8Array): boolean {
  if (existsSync(path)) {
    const current = readFileSync(path);
    if (current.length === contents.length && current.equals(contents)) return false;
  }
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
  return true;
}

function copyAsset(from: string, to: string): { files: number; changed: number } {
  if (statSync(from).isDirectory()) {
    let files = 0;
    let changed = 0;
    for (const entry of readdirSync(from)) {
      const counts = copyAsset(join(from, entry), join(to, entry));
      files += counts.files;
      changed += counts.changed;
    }
    return { files, changed };
  }
  const contents = readFileSync(from);
  return { files: 1, changed: writeIfChanged(to, contents) ? 1 : 0 };
}

/** Removes chunks of earlier builds that no longer exist in this one, once no starting process can want them. */
function pruneChunks(current: Set<string>): void {
  if (!existsSync(DIST)) return;
  for (const entry of readdirSync(DIST)) {
    const path = join(DIST, entry);
    if (!CHUNK_FILE.test(entry) || current.has(path)) continue;
    if (Date.now() - statSync(path).mtimeMs > STALE_CHUNK_MS) unlinkSync(path);
  }
}

export async function buildDist(): Promise<BuildResult> {
  const started = performance.now();
  const assets = new Map<string, string>();
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: Object.entries(ENTRY_POINTS).map(([out, source]) => ({ in: source, out })),
    outdir: DIST,
    bundle: true,
    splitting: true, // the CLI's commands stay separate chunks, loaded on demand
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    sourcesContent: false,
    keepNames: true, // class and function names show in logs and errors
    metafile: true,
    write: false,
    logLevel: 'warning',
    plugins: [workspacePlugin(assets)],
  });
  checkExternals(result.metafile);

  let changed = 0;
  let files = 0;
  const written = new Set<string>();
  for (const file of result.outputFiles) {
    files += 1;
    written.add(file.path);
    if (writeIfChanged(file.path, file.contents)) changed += 1;
  }
  // dist/ carries its own module type, so it runs wherever it is copied to.
  files += 1;
  if (writeIfChanged(join(DIST, 'package.json'), Buffer.from(`${JSON.stringify({ type: 'module', private: true })}\n`))) changed += 1;
  for (const from of assets.keys()) {
    const counts = copyAsset(from, join(DIST, relative(ROOT, from)));
    files += counts.files;
    changed += counts.changed;
  }
  pruneChunks(written);
  return { changed, files, ms: Math.round(performance.now() - started) };
}

let built: Promise<BuildResult> | undefined;

/**
 * The node arguments that run one entry point of dist/ (`intake`, `griddispatch`, …), after
 * building it once per process: for harnesses that start services as `pnpm stack:up` does.
 */
export async function compiledEntry(name: keyof typeof ENTRY_POINTS): Promise<string[]> {
  if (!(name in ENTRY_POINTS)) throw new Error(`no entry point ${name} (${Object.keys(ENTRY_POINTS).join(', ')})`);
  built ??= buildDist();
  await built;
  return ['--enable-source-maps', join(DIST, `${name}.js`)];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { changed, files, ms } = await buildDist();
    // Quiet when nothing changed: `pnpm griddispatch …` builds before every command.
    if (changed > 0) process.stderr.write(`build: dist/ ${changed} of ${files} files written in ${ms} ms\n`);
  } catch (err) {
    process.stderr.write(`build: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
