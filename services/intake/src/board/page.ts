import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// The board is one self-contained HTML file (inline CSS and vanilla JS, no build step, nothing
// from a CDN): the stations it serves often have no internet. Its only setting — where grid
// outlines come from — is written into a JSON block when the page is built.

const TEMPLATE = readFileSync(new URL('./board.html', import.meta.url), 'utf8');
const REPORTS_TEMPLATE = readFileSync(new URL('./reports.html', import.meta.url), 'utf8');

// The reports page draws with Chart.js (MIT, pinned in package.json), served from node_modules
// by intake itself at /board/vendor/chart.umd.min.js: no CDN. Its UMD build is not in the
// package's exports map, so it is found next to the package's main file.
const CHART_JS_PATH = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');

export interface VendorScript {
  body: Buffer;
  /** 'sha256-…': the page's integrity attribute and its CSP allow exactly this file. */
  hash: string;
}

let chartJs: VendorScript | undefined;
/** Read once, on first use. */
export function chartJsScript(): VendorScript {
  chartJs ??= (() => {
    const body = readFileSync(CHART_JS_PATH);
    return { body, hash: `sha256-${createHash('sha256').update(body).digest('base64')}` };
  })();
  return chartJs;
}

function inlineHash(tag: 'script' | 'style', html: string): string {
  // The executable <script> is the one without attributes (the config block is type=application/json).
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(html);
  if (!match) throw new Error(`board.html has no inline <${tag}>`);
  return `'sha256-${createHash('sha256').update(match[1]!, 'utf8').digest('base64')}'`;
}

export interface BoardPage {
  html: string;
  /** Content-Security-Policy: only this page's own script and style run; data only from `connect-src`. */
  csp: string;
}

/**
 * Grid outlines come from grid-routing's `GET /v1/grids` (fetched by the page), not from a copy
 * kept in intake: grid-routing owns grids and their polygons, a copy would need a new event
 * carrying polygons and would drift after every import, and the board is simply a client of
 * two services' APIs — as any operator tool is. `gridsUrl` is that API's URL (relative to /board
 * when on the same origin).
 */
export function renderBoardPage(options: { gridsUrl: string }): BoardPage {
  const html = withConfig(TEMPLATE, '__BOARD_CONFIG__', { gridsUrl: options.gridsUrl });
  return { html, csp: policy(html, [options.gridsUrl], []) };
}

/**
 * The reports page (/board/reports): charts of grid-routing's reports. The reports are
 * grid-routing's, next to its grids: the URL is GD_GRIDS_URL's with `grids` → `reports`, so one
 * setting serves both pages. URLs relative to /board are made relative to /board/reports. The
 * page asks for whole months in `timeZone` (GD_TIME_ZONE), the zone grid-routing reports in.
 */
export function renderReportsPage(options: { gridsUrl: string; timeZone: string }): BoardPage {
  const gridsUrl = fromSubpage(options.gridsUrl);
  const reportsUrl = gridsUrl.replace(/grids\/?$/, 'reports');
  const chart = chartJsScript();
  const html = withConfig(REPORTS_TEMPLATE, '__REPORTS_CONFIG__', { gridsUrl, reportsUrl, timeZone: options.timeZone }).replace(
    '__CHART_JS_INTEGRITY__',
    chart.hash,
  );
  return { html, csp: policy(html, [gridsUrl, reportsUrl], [`'${chart.hash}'`]) };
}

function fromSubpage(url: string): string {
  return /^(https?:)?\/\//.test(url) || url.startsWith('/') ? url : `../${url}`;
}

function withConfig(template: string, marker: string, config: Record<string, string>): string {
  // `<` escaped so no value can close the JSON block.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return template.replace(marker, () => json);
}

function policy(html: string, apiUrls: string[], scripts: string[]): string {
  const connect = new Set(["'self'"]);
  for (const url of apiUrls) if (/^https?:\/\//.test(url)) connect.add(new URL(url).origin);
  return [
    "default-src 'none'",
    `script-src ${[inlineHash('script', html), ...scripts].join(' ')}`,
    `style-src ${inlineHash('style', html)}`,
    `connect-src ${[...connect].join(' ')}`,
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
