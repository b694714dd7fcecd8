import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EventTypeName, EventTypes } from '@griddispatch/contracts';
import { expect, it } from 'vitest';

// docs/architecture.md#consumer-files: a handler file in a service's src/consumers/ is named after
// the event it handles, and the table there names, for each event, that file in every service.
// This holds the table and the tree to each other, and each service's schema name to one place.

const root = fileURLToPath(new URL('../..', import.meta.url));
const SKELETON = 'consume.ts';
const INCIDENT_FILE = 'incident-event.ts';

const shortNames = Object.values(EventTypes).map((t) => t.short);

/** The handler file an event's name asks for. */
function fileFor(short: string): string {
  return short.startsWith('incident.') ? INCIDENT_FILE : `${short.replace('.', '-')}.ts`;
}

interface Table {
  services: string[];
  rows: { events: string[]; files: (string | null)[] }[];
}

function consumerTable(): Table {
  const doc = readFileSync(`${root}/docs/architecture.md`, 'utf8');
  const section = doc.split('\n### Consumer files\n')[1]?.split('\n## ')[0];
  if (!section) throw new Error('docs/architecture.md has no "### Consumer files" section');
  const lines = section.split('\n').filter((l) => l.startsWith('|'));
  const cells = (line: string) =>
    line
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim());
  const ticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  const [header, , ...body] = lines;
  const services = cells(header!)
    .slice(1)
    .map((c) => ticked(c)[0]!.replace(/^services\//, ''));
  const rows = body.map((line) => {
    const [events, ...files] = cells(line);
    return { events: ticked(events!), files: files.map((f) => (f === '—' ? null : (ticked(f)[0] ?? f))) };
  });
  return { services, rows };
}

function consumerFiles(service: string): string[] {
  return readdirSync(`${root}/services/${service}/src/consumers`).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
}

const servicesWithConsumers = readdirSync(`${root}/services`).filter((s) => existsSync(`${root}/services/${s}/src/consumers`));

it('the table has a column for every service with consumers and a row for every event', () => {
  const table = consumerTable();
  expect([...table.services].sort()).toEqual([...servicesWithConsumers].sort());
  expect(table.rows.flatMap((r) => r.events).sort()).toEqual([...shortNames].sort());
  for (const row of table.rows) expect(row.files, row.events.join(', ')).toHaveLength(table.services.length);
});

it('every file the table names exists, is named after its event and handles it', () => {
  const table = consumerTable();
  for (const row of table.rows) {
    row.files.forEach((file, i) => {
      if (file === null) return;
      const where = `services/${table.services[i]}/src/consumers/${file}`;
      for (const short of row.events) expect(file, `${short} in ${where}`).toBe(fileFor(short));
      expect(existsSync(`${root}/${where}`), where).toBe(true);
      // It names one of its events: by type (cn.griddispatch.<short>.v1) or by EventTypeName.
      const names = row.events.flatMap((short) => {
        const type = `cn.griddispatch.${short}.v1`;
        const key = Object.entries(EventTypeName).find(([, t]) => t === type)?.[0];
        return [type, ...(key ? [`EventTypeName.${key}`] : [])];
      });
      const text = readFileSync(`${root}/${where}`, 'utf8');
      expect(
        names.some((n) => text.includes(n)),
        `${where} names none of ${row.events.join(', ')}`,
      ).toBe(true);
    });
  }
});

it('every file in a service’s consumers/ is a handler the table names, or its consume.ts', () => {
  const table = consumerTable();
  for (const service of servicesWithConsumers) {
    const column = table.services.indexOf(service);
    const named = new Set(table.rows.map((r) => r.files[column]).filter((f): f is string => f !== null && f !== undefined));
    for (const file of consumerFiles(service)) {
      if (file === SKELETON) continue;
      expect(named.has(file), `services/${service}/src/consumers/${file} is no handler in the table of docs/architecture.md#consumer-files`).toBe(true);
    }
  }
});

it('each service names its PostgreSQL schema once: SCHEMA in src/schema.ts', () => {
  for (const service of readdirSync(`${root}/services`)) {
    const src = `${root}/services/${service}/src`;
    if (!existsSync(src)) continue;
    const defining = (readdirSync(src, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts'))
      .filter((f) => /^export const SCHEMA\b/m.test(readFileSync(`${src}/${f}`, 'utf8')));
    expect(defining, service).toEqual(['schema.ts']);
    expect(readFileSync(`${src}/schema.ts`, 'utf8'), service).toMatch(/pgSchema\(SCHEMA\)/);
  }
});
