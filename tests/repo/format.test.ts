import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { expect, it } from 'vitest';

// `pnpm lint` runs Prettier's check with the repository's settings (.prettierrc.json): code a
// contributor did not format fails it; `pnpm format` writes the formatting.

const root = fileURLToPath(new URL('../..', import.meta.url));

it('the lint checks formatting, and code not in the house format fails the check', async () => {
  const scripts = (JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts;
  expect(scripts.lint).toContain('prettier --check .');
  const filepath = `${root}/services/intake/src/example.ts`;
  const options = { ...(await prettier.resolveConfig(filepath)), filepath };
  expect(options).toMatchObject({ printWidth: 160, singleQuote: true });
  expect(await prettier.check('const answer = {a:1,b:"two"}\n', options)).toBe(false);
  expect(await prettier.check("const answer = { a: 1, b: 'two' };\n", options)).toBe(true);
  // And the repository's own sources are checked, not ignored.
  expect((await prettier.getFileInfo(filepath, { ignorePath: `${root}/.prettierignore` })).ignored).toBe(false);
});
