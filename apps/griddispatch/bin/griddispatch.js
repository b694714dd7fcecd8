#!/usr/bin/env node
// `npx griddispatch …` in a development checkout: the TypeScript entry point through tsx's loader,
// so it always runs the sources as they are. `pnpm griddispatch`, `pnpm start`, the local stack and
// the Docker image run the compiled build instead (`pnpm build` → dist/griddispatch.js).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
