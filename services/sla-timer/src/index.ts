export { buildSlaTimer, type SlaTimerDeps, type SlaTimerHandle } from './app.ts';
export { loadConfig, loadPolicy, type SlaTimerConfig } from './config.ts';
