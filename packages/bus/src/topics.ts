import { readFileSync } from 'node:fs';
import { z } from 'zod';

// Topics and their partition counts come from ONE file, infra/kafka/topics.json, read by the
// Kafka bus (creates missing topics on first use) and by `infra/kafka/kafka.sh topics`.

export const TOPICS_FILE = new URL('../../../infra/kafka/topics.json', import.meta.url).pathname;

const TopicDefinition = z.object({
  name: z.string().min(1),
  partitions: z.int().positive(),
  key: z.string().optional(),
  config: z.record(z.string(), z.string()).optional(),
});
export type TopicDefinition = z.infer<typeof TopicDefinition>;

const TopicsFile = z.object({
  defaults: z.object({
    partitions: z.int().positive(),
    dlqPartitions: z.int().positive(),
    replicationFactor: z.int().positive(),
  }),
  topics: z.array(TopicDefinition),
});
export type TopicsFile = z.infer<typeof TopicsFile>;

export function loadTopicsFile(path: string = TOPICS_FILE): TopicsFile {
  const parsed = TopicsFile.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`invalid topic definitions in ${path}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Definition for a logical topic; topics not in the file (tests, tools) get the defaults. */
export function topicDefinition(file: TopicsFile, name: string): TopicDefinition {
  const defined = file.topics.find((t) => t.name === name);
  if (defined) return defined;
  return { name, partitions: name.endsWith('.dlq') ? file.defaults.dlqPartitions : file.defaults.partitions };
}
