import { randomBytes } from 'node:crypto';
import { inArray } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { isUuid, type Category } from '@griddispatch/contracts';
import { listen, type Listener, type Pool } from '@griddispatch/db';
import type { Logger } from '@griddispatch/observability';
import { incidents, requests } from '../schema.ts';
import { toBoardItem, type BoardItem } from './board-view.ts';
import { toBoardIncident, type BoardIncident } from './incident-view.ts';
import { BOARD_CHANNEL, parseBoardPayload, type BoardChange, type BoardNotice } from './changes.ts';

/** One update on the board's stream: the work order (or incident) as it is now, and what changed it. */
export type BoardEvent = {
  /** `<stream epoch>-<sequence>`: what a reconnecting EventSource sends back as Last-Event-ID. */
  id: string;
  changes: BoardChange[];
} & ({ workOrder: BoardItem; incident?: never } | { incident: BoardIncident; workOrder?: never });

export interface BoardFilter {
  /** Only work orders routed to one of these grids. */
  gridIds?: ReadonlySet<string>;
  category?: Category;
}

export interface BoardSubscriber {
  filter: BoardFilter;
  deliver(event: BoardEvent): void;
  /** Updates were lost (database connection dropped): the client must reload its snapshot. */
  reset(reason: string): void;
  /** The hub stops (service shutdown): end the stream. */
  close(): void;
}

export function matchesFilter(item: BoardItem, filter: BoardFilter): boolean {
  if (filter.category && item.category !== filter.category) return false;
  if (filter.gridIds && (!item.grid || !filter.gridIds.has(item.grid.id))) return false;
  return true;
}

/** An incident is a supply fault: it shows unless the board looks at another category or other grids. */
export function incidentMatchesFilter(incident: BoardIncident, filter: BoardFilter): boolean {
  if (filter.category && filter.category !== 'fault_repair') return false;
  if (filter.gridIds && !filter.gridIds.has(incident.gridId)) return false;
  return true;
}

export function eventMatchesFilter(event: BoardEvent, filter: BoardFilter): boolean {
  return event.workOrder ? matchesFilter(event.workOrder, filter) : incidentMatchesFilter(event.incident!, filter);
}

export interface BoardHubOptions {
  pool: Pool;
  logger: Logger;
  /** Notifications arriving within this window are read in one query. Default 10 ms. */
  coalesceMs?: number;
  /** Events kept for Last-Event-ID resume. Default 2000. */
  bufferSize?: number;
}

/**
 * Fans the read model's changes out to this replica's board streams. It LISTENs on
 * BOARD_CHANNEL (one connection per replica, reconnecting), reads the changed rows — only while
 * someone is watching — and hands each subscriber the ones its filter matches. NOTIFY arrives in
 * commit order and every event carries the whole row as committed, so a client that applies
 * events in order after its snapshot ends up with the current state.
 *
 * Resume is cheap and honest: the last `bufferSize` events stay in memory under ids of this
 * hub's epoch; a Last-Event-ID from that window is replayed, anything else (another replica,
 * a restart, a gap while nobody watched) is refused and the client reloads its snapshot.
 */
export class BoardHub {
  private readonly epoch = randomBytes(4).toString('hex');
  private readonly subscribers = new Set<BoardSubscriber>();
  private readonly buffer: { seq: number; event: BoardEvent }[] = [];
  private readonly coalesceMs: number;
  private readonly bufferSize: number;
  private readonly logger: Logger;
  private seq = 0;
  /** Events after this sequence number are all in `buffer`: a resume from here on is complete. */
  private floor = 0;
  private pending: BoardNotice[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private listener: Listener | undefined;
  private stopping = false;

  constructor(private readonly options: BoardHubOptions) {
    this.coalesceMs = options.coalesceMs ?? 10;
    this.bufferSize = options.bufferSize ?? 2000;
    this.logger = options.logger.child({ component: 'board-hub' });
  }

  get streams(): number {
    return this.subscribers.size;
  }

  /** True while the LISTEN connection is up (changes reach the boards). */
  get live(): boolean {
    return this.listener?.listening() ?? false;
  }

  start(): void {
    this.stopping = false;
    this.listener ??= listen(
      this.options.pool,
      BOARD_CHANNEL,
      (payload) => {
        const notice = parseBoardPayload(payload);
        if (notice) this.onNotice(notice);
        else this.logger.warn({ payload }, 'board: unreadable notification ignored');
      },
      {
        applicationName: 'griddispatch-intake-board',
        logger: this.logger,
        label: 'board',
        // Changes committed while we were not listening are lost: the boards reload.
        onListening: (again) => {
          if (again) this.broadcastReset('reconnected to the database; reload');
        },
      },
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.listener?.close();
    this.listener = undefined;
    await this.flushing;
    for (const subscriber of [...this.subscribers]) subscriber.close();
    this.subscribers.clear();
  }

  /**
   * Adds a stream. With a `lastEventId` from this hub's resume window, `replay` holds the events
   * after it that match the filter (the caller writes them before anything newer) and `resumed`
   * is true; otherwise the client needs a fresh snapshot.
   */
  subscribe(subscriber: BoardSubscriber, lastEventId?: string): { resumed: boolean; replay: BoardEvent[]; unsubscribe(): void } {
    const after = lastEventId ? this.sequenceOf(lastEventId) : null;
    const resumed = after !== null && after >= this.floor && after <= this.seq;
    const replay = resumed ? this.buffer.filter(({ seq, event }) => seq > after && eventMatchesFilter(event, subscriber.filter)).map((b) => b.event) : [];
    this.subscribers.add(subscriber);
    return { resumed, replay, unsubscribe: () => this.subscribers.delete(subscriber) };
  }

  /** For tests and the stream's hello: the id the next event will follow. */
  get streamId(): string {
    return this.epoch;
  }

  private sequenceOf(eventId: string): number | null {
    const match = /^([0-9a-f]{8})-(\d{1,15})$/.exec(eventId);
    if (!match || match[1] !== this.epoch) return null;
    return Number(match[2]);
  }

  /** Forget the resume window: what happened since cannot be replayed. */
  private gap(): void {
    this.seq += 1;
    this.floor = this.seq;
    this.buffer.length = 0;
  }

  private onNotice(notice: BoardNotice): void {
    this.pending.push(notice);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.flushing || this.stopping) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flush().finally(() => {
        this.flushing = undefined;
        if (this.pending.length > 0) this.schedule();
      });
    }, this.coalesceMs);
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    if (this.subscribers.size === 0) {
      // Nobody watches: skip the read; a later resume from before this point reloads instead.
      this.gap();
      return;
    }
    // Work orders and incidents by key (`w:<id>`, `i:<id>`), in the order of their last change.
    const changes = new Map<string, { kind: 'workOrder' | 'incident'; id: string; list: BoardChange[] }>();
    for (const { id, change, kind } of batch) {
      if (kind !== 'incident' && !isUuid(id)) continue;
      const key = `${kind === 'incident' ? 'i' : 'w'}:${id}`;
      const list = changes.get(key)?.list ?? [];
      changes.delete(key); // re-insert: the order of last change
      changes.set(key, { kind: kind === 'incident' ? 'incident' : 'workOrder', id, list: [...list, change] });
    }
    const ids = (kind: 'workOrder' | 'incident') => [...changes.values()].filter((c) => c.kind === kind).map((c) => c.id);
    let rows;
    let incidentRows;
    try {
      const db = drizzle(this.options.pool);
      const workOrderIds = ids('workOrder');
      const incidentIds = ids('incident');
      rows = workOrderIds.length > 0 ? await db.select().from(requests).where(inArray(requests.id, workOrderIds)) : [];
      incidentRows =
        incidentIds.length > 0
          ? await db.select({ status: incidents.status, data: incidents.data }).from(incidents).where(inArray(incidents.id, incidentIds))
          : [];
    } catch (err) {
      this.logger.warn({ err, changes: batch.length }, 'board: could not read changed work orders; boards reload');
      this.broadcastReset('updates were lost; reload');
      return;
    }
    const byId = new Map(rows.map((r) => [r.id, r]));
    const incidentById = new Map(incidentRows.map((r) => [r.data.id, r]));
    for (const { kind, id, list } of changes.values()) {
      let event: BoardEvent;
      if (kind === 'incident') {
        const row = incidentById.get(id);
        if (!row) continue;
        event = { id: `${this.epoch}-${this.seq + 1}`, changes: list, incident: toBoardIncident(row) };
      } else {
        const row = byId.get(id);
        if (!row) continue;
        event = { id: `${this.epoch}-${this.seq + 1}`, changes: list, workOrder: toBoardItem(row) };
      }
      this.seq += 1;
      this.buffer.push({ seq: this.seq, event });
      if (this.buffer.length > this.bufferSize) this.floor = this.buffer.shift()!.seq;
      for (const subscriber of this.subscribers) if (eventMatchesFilter(event, subscriber.filter)) subscriber.deliver(event);
    }
  }

  private broadcastReset(reason: string): void {
    this.gap();
    for (const subscriber of this.subscribers) subscriber.reset(reason);
  }
}
