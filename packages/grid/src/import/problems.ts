import type { PolygonProblemCode } from '../validate-polygons.ts';

export type ImportProblemCode =
  | 'syntax'
  | 'missing_column'
  | 'unknown_column'
  | 'missing_value'
  | 'invalid_value'
  | 'bad_role'
  | 'duplicate'
  | 'unknown_grid'
  | 'unknown_district'
  | 'unknown_feeder'
  | 'unknown_staff'
  | 'conflict'
  | 'cycle'
  | 'too_many_problems'
  | PolygonProblemCode;

/** One thing wrong with an import file. `line` is 1-based; null when it concerns the whole file. */
export interface ImportProblem {
  file: string;
  line: number | null;
  code: ImportProblemCode;
  message: string;
}

/** Records read from one file, `lines[i]` being the line on which `records[i]` starts. */
export interface ParsedFile<T> {
  file: string;
  records: T[];
  lines: number[];
  problems: ImportProblem[];
}

export const DEFAULT_MAX_PROBLEMS = 1000;

/**
 * Collects problems of one file up to a cap, so a systematic error in a million-row file gives a
 * readable report (the first N, then one line saying how many more) instead of a million lines.
 */
export class ProblemList {
  readonly items: ImportProblem[] = [];
  private dropped = 0;

  constructor(
    readonly file: string,
    private readonly max = DEFAULT_MAX_PROBLEMS,
  ) {}

  add(line: number | null, code: ImportProblemCode, message: string): void {
    if (this.items.length < this.max) this.items.push({ file: this.file, line, code, message });
    else this.dropped++;
  }

  get count(): number {
    return this.items.length + this.dropped;
  }

  /** The problems, with a closing `too_many_problems` entry when some were left out. */
  done(): ImportProblem[] {
    if (this.dropped === 0) return this.items;
    return [...this.items, { file: this.file, line: null, code: 'too_many_problems', message: `${this.dropped} more problems in ${this.file} not listed` }];
  }
}

/** Sorts problems by file, then line (whole-file problems first). */
export function sortProblems(problems: ImportProblem[]): ImportProblem[] {
  return problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : (a.line ?? 0) - (b.line ?? 0)));
}

/** `file:line: message` lines, the format the CLI prints. */
export function formatProblems(problems: readonly ImportProblem[]): string {
  return problems.map((p) => `${p.file}${p.line === null ? '' : `:${p.line}`}: [${p.code}] ${p.message}`).join('\n');
}
