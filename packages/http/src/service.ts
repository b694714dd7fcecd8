import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';

/** What every service's `buildX(deps)` returns (team brief). */
export interface ServiceHandle {
  name: string;
  /** Fastify plugin with this service's HTTP routes (may be absent). Registered by the host. */
  routes?: FastifyPluginAsync;
  /** Starts consumers, relays, schedulers. Migrations already ran in buildX. */
  start(): Promise<void>;
  /** Graceful: stop consuming, drain in-flight work, stop relays. Does NOT close pool/bus (owner does). */
  stop(): Promise<void>;
  /** For /readyz: true when its consumers are running and its dependencies answer. */
  ready(): Promise<boolean>;
  /** Optional: adds the service's own metrics (outbox backlog, consumer lag, …) to the host's registry. */
  registerMetrics?(registry: Registry): void;
}
