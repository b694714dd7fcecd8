import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { expect, it } from 'vitest';

// docker-compose.yml is not run here (no Docker on these machines), so what can be checked
// without it is: the file is valid against the Compose Specification's schema (what
// `docker compose config` checks first), and the front door it starts routes to the ports the
// services listen on, from the same template `pnpm stack:up` uses.

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(fileURLToPath(new URL(path, root)), 'utf8');

interface ComposeService {
  image?: string;
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };

it('docker-compose.yml is valid against the Compose Specification schema', () => {
  // The schema names draft-07 by its https URL, which ajv does not know by that name (it is
  // draft-07, ajv's default), and uses keywords draft-07 does not define (`deprecated`).
  const { $schema: _draft07, ...schema } = JSON.parse(read('tests/repo/vendor/compose-spec.json')) as Record<string, unknown>;
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  const valid = validate(compose);
  expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
  expect(valid).toBe(true);
  // …and the check bites: a misspelt key or a wrong type is refused.
  const intake = compose.services.intake!;
  expect(validate({ ...compose, services: { ...compose.services, intake: { ...intake, prots: ['8080:8080'] } } })).toBe(false);
  expect(validate({ ...compose, services: { ...compose.services, intake: { ...intake, restart: 7 } } })).toBe(false);
});

it('publishes one port, the front door, which routes to each public service on the port it listens on', () => {
  const published = Object.entries(compose.services)
    .filter(([, s]) => s.ports?.length)
    .map(([name]) => name);
  expect(published).toEqual(['front-door']);

  const door = compose.services['front-door']!;
  expect(door.image).toMatch(/^nginx:/); // the official image
  expect(door.volumes).toContain('./infra/nginx/front-door.conf.template:/etc/nginx/templates/default.conf.template:ro');
  const template = read('infra/nginx/front-door.conf.template');
  for (const [variable, service] of [
    ['GD_INTAKE_SERVERS', 'intake'],
    ['GD_GRID_ROUTING_SERVERS', 'grid-routing'],
    ['GD_NOTIFICATION_SERVERS', 'notification'],
  ] as const) {
    expect(template).toContain(`\${${variable}}`);
    expect(door.environment?.[variable]).toBe(`server ${service}:${compose.services[service]!.environment!.PORT};`);
  }
  expect(template).toContain('${GD_LISTEN}');
  expect(door.ports).toEqual([`\${STACK_PORT_BASE:-8080}:${door.environment?.GD_LISTEN}`]);
});
