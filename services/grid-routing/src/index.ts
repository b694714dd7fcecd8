export { buildGridRouting, type GridRoutingDeps, type GridRoutingHandle } from './app.ts';
export { loadConfig, loadPolicy, type GridRoutingConfig } from './config.ts';
export {
  importData,
  importFilesIn,
  type ApplyCounts,
  type ImportFiles,
  type ImportKind,
  type ImportOptions,
  type ImportProgress,
  type ImportReport,
  type ImportSource,
} from './use-cases/import-data.ts';
export { loadSampleData, type SampleDataOptions } from './use-cases/load-sample-data.ts';
// bench/dispatch.ts measures the routing decision in process, without Kafka: it drives the
// request.received consumer (record and batch paths) with the same routing data the service builds.
export { requestReceivedConsumer } from './consumers/request-received.ts';
export { RoutingDataCache } from './routing-data.ts';
export type { RouteOutcome, RoutingContext } from './use-cases/route-request.ts';
