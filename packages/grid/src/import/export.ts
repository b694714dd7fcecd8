import type { SampleCounty } from '../sample/generate.ts';
import { CSV_FORMATS } from './formats.ts';
import { GRIDS_FILE, gridsToGeoJson } from './geojson.ts';
import type { ImportFileTexts } from './import-set.ts';
import { toCsv } from './parse-csv.ts';

/** Standard file name of each import file kind. */
export const IMPORT_FILE_NAMES: Required<Record<keyof ImportFileTexts, string>> = {
  grids: GRIDS_FILE,
  districts: CSV_FORMATS.districts.file,
  customers: CSV_FORMATS.customers.file,
  staff: CSV_FORMATS.staff.file,
  rosters: CSV_FORMATS.rosters.file,
  communities: CSV_FORMATS.communities.file,
  feeders: CSV_FORMATS.feeders.file,
};

/**
 * Every record set written in the import formats (what `griddispatch import` reads back). For a
 * million customers prefer `csvChunks('customers', …)` into a write stream.
 */
export function toImportFiles(data: SampleCounty): Required<ImportFileTexts> {
  return {
    grids: gridsToGeoJson(data.grids),
    districts: toCsv('districts', data.districts),
    customers: toCsv('customers', data.customers),
    staff: toCsv('staff', data.staff),
    rosters: toCsv('rosters', data.rosters),
    communities: toCsv('communities', data.communities),
    feeders: toCsv('feeders', data.feeders),
  };
}
