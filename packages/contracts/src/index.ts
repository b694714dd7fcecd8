export * from './domain.ts';
export * from './envelope.ts';
export * from './events/index.ts';
export * from './http.ts';
export * from './json-schema.ts';
export * from './topics.ts';
export * from './asyncapi.ts';
