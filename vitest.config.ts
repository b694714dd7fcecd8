import { defineConfig } from 'vitest/config';

// Integration tests share one Kafka broker and one PostgreSQL server; run files one at a time
// on these 2-core machines so timing-sensitive tests are not starved.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'bench/**/*.test.ts', 'tests/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['packages/testkit/src/global-setup.ts'],
  },
});
