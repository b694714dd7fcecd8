export * from './infra.ts';
export * from './postgres.ts';
export * from './kafka.ts';
