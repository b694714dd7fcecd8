import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { asyncApiDocument } from './asyncapi.ts';
import { ALL_TOPICS, EXTERNAL_TOPICS } from './topics.ts';

describe('AsyncAPI document', () => {
  it('is a valid AsyncAPI 3 document describing every topic', async () => {
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(asyncApiDocument()));
    const errors = diagnostics.filter((d) => d.severity === 0);
    expect(errors).toEqual([]);
    expect(
      document
        ?.channels()
        .all()
        .map((c) => c.address())
        .sort(),
    ).toEqual([...ALL_TOPICS, ...EXTERNAL_TOPICS].map((t) => `griddispatch.${t}`).sort());
  });

  it('matches the checked-in asyncapi.json (regenerate with `pnpm contracts:generate`)', () => {
    const file = JSON.parse(readFileSync(new URL('../asyncapi.json', import.meta.url), 'utf8'));
    expect(file).toEqual(asyncApiDocument());
  });
});
