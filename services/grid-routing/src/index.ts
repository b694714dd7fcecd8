export { buildGridRouting, loadPolicy, type GridRoutingDeps, type GridRoutingHandle } from './app.ts';
export { loadConfig, type GridRoutingConfig } from './config.ts';
