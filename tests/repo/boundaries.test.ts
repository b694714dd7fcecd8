import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { expect, it } from 'vitest';

// The import rules of eslint.config.js, on code a contributor might write: `pnpm lint` (and CI)
// must fail on a service reaching into another, and on a test reaching into a private file.

const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function restricted(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

it('a service importing another service, by name or by path, fails the lint', async () => {
  const file = 'services/grid-routing/src/use-cases/example.ts';
  expect(await restricted(file, "import { buildIntake } from '@griddispatch/intake';\nexport { buildIntake };\n")).toHaveLength(1);
  expect(await restricted(file, "import { x } from '../../../notification/src/app.ts';\nexport { x };\n")).toHaveLength(1);
  expect(await restricted(file, "import { x } from '../../../../services/sla-timer/src/app.ts';\nexport { x };\n")).toHaveLength(1);
  // Its own files and the shared packages are fine.
  expect(await restricted(file, "import { x } from '../routing-data.ts';\nimport { y } from '@griddispatch/bus';\nexport { x, y };\n")).toEqual([]);
});

it('a package importing a service fails the lint', async () => {
  const messages = await restricted('packages/bus/src/example.ts', "import { buildSlaTimer } from '@griddispatch/sla-timer';\nexport { buildSlaTimer };\n");
  expect(messages).toHaveLength(1);
});

it('tests and benchmarks reach a service or package only through its exports', async () => {
  const deep = "import { x } from '../../services/intake/src/adapters/95598.ts';\nexport { x };\n";
  expect(await restricted('tests/faults/example.ts', deep)).toHaveLength(1);
  expect(await restricted('bench/e2e/example.ts', deep)).toHaveLength(1);
  const publicExport = "import { Payload95598 } from '@griddispatch/intake';\nexport { Payload95598 };\n";
  expect(await restricted('bench/e2e/example.ts', publicExport)).toEqual([]);
});
