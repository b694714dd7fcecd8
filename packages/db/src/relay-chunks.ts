import type { OutgoingMessage } from '@griddispatch/bus';

export interface OutboxRow {
  id: string;
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

// Kafka's per-record framing (lengths, offsets, timestamps) on top of key, value and headers;
// rounded up so the estimate errs on the large side.
const RECORD_OVERHEAD_BYTES = 64;

function recordBytes(row: OutboxRow): number {
  let bytes = RECORD_OVERHEAD_BYTES + Buffer.byteLength(row.key) + Buffer.byteLength(row.value);
  for (const name in row.headers) bytes += Buffer.byteLength(name) + Buffer.byteLength(row.headers[name] ?? '');
  return bytes;
}

/**
 * Splits a batch (in id order) into publish calls: per topic, in order, each call at most
 * `maxBytes` (a single larger record goes alone). A broker rejects a partition's record batch
 * above `message.max.bytes` (1 MiB by default) and a Kafka producer sends one record batch per
 * partition per request, so bounding a whole call bounds every partition's share of it, however
 * the keys fall (a storm puts most records on a few hot keys).
 */
export function chunksByTopic(rows: OutboxRow[], maxBytes: number): Map<string, OutgoingMessage[][]> {
  const out = new Map<string, { chunks: OutgoingMessage[][]; bytes: number }>();
  for (const row of rows) {
    const bytes = recordBytes(row);
    let topic = out.get(row.topic);
    if (!topic) {
      topic = { chunks: [[]], bytes: 0 };
      out.set(row.topic, topic);
    }
    let chunk = topic.chunks[topic.chunks.length - 1] as OutgoingMessage[];
    if (chunk.length > 0 && topic.bytes + bytes > maxBytes) {
      chunk = [];
      topic.chunks.push(chunk);
      topic.bytes = 0;
    }
    chunk.push({ key: row.key, value: row.value, headers: row.headers });
    topic.bytes += bytes;
  }
  return new Map([...out].map(([topic, { chunks }]) => [topic, chunks]));
}
