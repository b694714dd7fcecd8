export * from './types.ts';
export { createPool, withTransaction } from './pool.ts';
export { migrate, MigrationError } from './migrate.ts';
export { enqueueOutbox, eventHeaders, eventRecord, outboxColumns } from './outbox.ts';
export { applyOnce, claimEvents } from './inbox.ts';
export { startRelay } from './relay.ts';
export { listen, type Listener, type ListenOptions } from './listen.ts';
export { startPeriodic, type Periodic, type PeriodicOptions } from './periodic.ts';
export { outboxChannel } from './identifiers.ts';
export { runningEmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres.ts';
export {
  inboxRetention,
  loadRetentionConfig,
  RetentionEnv,
  startRetention,
  type Retention,
  type RetentionConfig,
  type RetentionOptions,
  type RetentionRule,
  type RetentionSweep,
} from './retention.ts';
export { byTopic, inboxConsumer, parseEventOf, type Applied, type InboxConsumer, type InboxConsumerSpec } from './inbox-consumer.ts';
export { GroupCommitWriter, type GroupCommitOptions, type GroupOutcome } from './group-commit.ts';
