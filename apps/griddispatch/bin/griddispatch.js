#!/usr/bin/env node
// `npx griddispatch …`: runs the TypeScript entry point through tsx's loader (there is no build step).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
