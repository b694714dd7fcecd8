export { buildIntake, type IntakeDeps, type IntakeHandle } from './app.ts';
export { loadConfig, type IntakeConfig } from './config.ts';
