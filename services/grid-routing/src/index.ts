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
