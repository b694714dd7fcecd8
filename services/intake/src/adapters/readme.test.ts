import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SOURCE_ADAPTERS } from './index.ts';

// The README documents each source with an example payload; keep them the adapters' own.
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README examples', () => {
  it.each(SOURCE_ADAPTERS.map((a) => [a.source, a] as const))('documents the %s adapter with its example', (source, adapter) => {
    const match = new RegExp(`<!-- example:${source} -->\\s*\`\`\`json\\n([\\s\\S]*?)\`\`\``).exec(readme);
    expect(match, `README has no example block for ${source}`).not.toBeNull();
    expect(JSON.parse(match![1]!)).toEqual(adapter.example);
    expect(adapter.schema.safeParse(adapter.example).success).toBe(true);
  });
});
