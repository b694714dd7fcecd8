import { mkdirSync, writeFileSync } from 'node:fs';
import { asyncApiDocument } from './asyncapi.ts';
import { eventJsonSchemas } from './json-schema.ts';

// Writes the published artefacts of the contracts: asyncapi.json and one JSON Schema per event
// type under schemas/. Tests fail when the checked-in files differ from what this produces.
const root = new URL('../', import.meta.url);
writeFileSync(new URL('asyncapi.json', root), `${JSON.stringify(asyncApiDocument(), null, 2)}\n`);
mkdirSync(new URL('schemas/', root), { recursive: true });
for (const [type, schema] of Object.entries(eventJsonSchemas())) {
  writeFileSync(new URL(`schemas/${type}.json`, root), `${JSON.stringify(schema, null, 2)}\n`);
}
console.log(`wrote ${new URL('asyncapi.json', root).pathname} and schemas/*.json`);
