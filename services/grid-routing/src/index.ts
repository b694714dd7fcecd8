export { buildGridRouting, type GridRoutingDeps, type GridRoutingHandle } from './app.ts';
export { loadConfig, loadPolicy, type GridRoutingConfig } from './config.ts';
export {
  importData,
  importFilesIn,
  loadSampleData,
  type ApplyCounts,
  type ImportFiles,
  type ImportKind,
  type ImportOptions,
  type ImportProgress,
  type ImportReport,
  type ImportSource,
  type SampleDataOptions,
} from './use-cases/import-data.ts';
