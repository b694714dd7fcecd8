export * from './infra.ts';
export * from './postgres.ts';
