export * from './types.ts';
export { createInProcessBus, type InProcessBusOptions } from './in-process-bus.ts';
export { createKafkaBus, type KafkaBusOptions } from './kafka-bus.ts';
export { ensureTopics, pinoLogCreator, kafkajsLevel, type EnsuredTopic } from './kafka-admin.ts';
export { loadTopicsFile, topicDefinition, TOPICS_FILE, type TopicDefinition, type TopicsFile } from './topics.ts';
export { waitForIdle, lagByGroup, BusNotIdleError, type WaitForIdleOptions } from './wait-for-idle.ts';
export { partitionForKey, backoffDelay, isDependencyUnavailable, sleep } from './delivery.ts';
