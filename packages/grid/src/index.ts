// @griddispatch/grid — pure grid domain: records, geometry, the resolver, import formats and
// the deterministic sample county. No database, no bus, no clock it does not receive.
export type * from './types.ts';
export {
  BOUNDARY_EPSILON_DEG,
  METERS_PER_DEGREE,
  compileGeometry,
  containsPoint,
  distanceToBoundaryMeters,
  geometryBBox,
  haversineMeters,
  locateInPolygon,
  locatePoint,
  ringSignedArea,
  type BBox,
  type CompiledPolygon,
  type PointLocation,
} from './geometry.ts';
export { createGridIndex, type GridIndex, type GridIndexOptions } from './grid-index.ts';
export { checkGeometry, validatePolygons, type PolygonProblem, type PolygonProblemCode, type ValidatePolygonsOptions } from './validate-polygons.ts';
export { customerMeterId, metersOf, transformerMeterId, type MeterKind, type MeterRecord } from './meters.ts';
export { isOnDuty, localTime, parseClock, staffOnDuty, type LocalTime } from './roster.ts';
export { CSV_FORMATS, formatDays, parseDays, type CsvKind, type CsvRecordOf } from './import/formats.ts';
export { csvLine, readCsv, CsvReader, type CsvSink } from './import/csv.ts';
export {
  csvChunks,
  parseCommunitiesCsv,
  parseCsv,
  parseCsvStream,
  parseCustomersCsv,
  parseDistrictsCsv,
  parseFeedersCsv,
  parseRostersCsv,
  parseStaffCsv,
  toCsv,
  type CsvParseOptions,
} from './import/parse-csv.ts';
export { GRIDS_FILE, featureStartLines, gridProperties, gridsToGeoJson, parseGridsGeoJson, type GeoJsonParseOptions } from './import/geojson.ts';
export {
  checkImport,
  linkDistricts,
  parseImportFiles,
  type CheckOptions,
  type ImportFileTexts,
  type ImportResult,
  type KnownIds,
  type ParsedImport,
} from './import/import-set.ts';
export { IMPORT_FILE_NAMES, toImportFiles } from './import/export.ts';
export { DEFAULT_MAX_PROBLEMS, formatProblems, sortProblems, type ImportProblem, type ImportProblemCode, type ParsedFile } from './import/problems.ts';
export { BENCH_SCALE, MAX_SCALE, SAMPLE_FACTS, generateSampleCounty, type SampleCounty, type SampleCountyOptions } from './sample/generate.ts';
