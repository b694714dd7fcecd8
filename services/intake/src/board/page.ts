import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

// The board is one self-contained HTML file (inline CSS and vanilla JS, no build step, nothing
// from a CDN): the stations it serves often have no internet. Its only setting — where grid
// outlines come from — is written into a JSON block when the page is built.

const TEMPLATE = readFileSync(new URL('./board.html', import.meta.url), 'utf8');

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
  // `<` escaped so no value can close the JSON block.
  const json = JSON.stringify({ gridsUrl: options.gridsUrl }).replace(/</g, '\\u003c');
  const html = TEMPLATE.replace('__BOARD_CONFIG__', () => json);
  const connect = ["'self'"];
  if (/^https?:\/\//.test(options.gridsUrl)) connect.push(new URL(options.gridsUrl).origin);
  const csp = [
    "default-src 'none'",
    `script-src ${inlineHash('script', html)}`,
    `style-src ${inlineHash('style', html)}`,
    `connect-src ${connect.join(' ')}`,
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, csp };
}
