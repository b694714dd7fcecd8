export * from './logger.ts';
export * from './tracing.ts';
export * from './telemetry.ts';
