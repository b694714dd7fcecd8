export { buildIntake, type IntakeDeps, type IntakeHandle } from './app.ts';
export { loadConfig, type IntakeConfig } from './config.ts';
// The 95598 call centre's payload: its shape is part of the public API (POST /v1/requests/95598).
export { Payload95598 } from './adapters/95598.ts';
