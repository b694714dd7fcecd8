import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessBus, type Bus } from '@griddispatch/bus';
import { buildEvent, serializeEvent, Topics, type GridView } from '@griddispatch/contracts';
import { parseHttpEnv } from '@griddispatch/http';
import { createLogger } from '@griddispatch/observability';
import { freshDatabase, type FreshDatabase } from '@griddispatch/testkit';
import { buildStack, type Stack } from './stack.ts';
import { countColour, decodePng } from './testing/png.ts';

// The reports page (/board/reports, served by intake) in headless Chromium against the embedded
// stack: half a year of outages made the way production makes them — fault calls on
// requests.received, crews on workorders.events, routed and timed by grid-routing — then the
// page's charts compared with what the report API answers. Chromium as in board.int.test.ts.
// GD_REPORTS_SCREENSHOT=<path> also saves the screenshot there (docs/reports.png).

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const VIEWPORT = { width: 1280, height: 800 };
const READER = 'reports-reader-secret-01';
/** Four grids, two per town; June to November 2026, local (Asia/Shanghai). */
const GRIDS = ['HH-G01', 'HH-G03', 'TC-G01', 'TC-G05'] as const;
const MONTHS = ['2026-06', '2026-07', '2026-08', '2026-09', '2026-10', '2026-11'] as const;
const LINE_BLUE = [0x0b, 0x61, 0xa4] as const;
const BAR_COLOURS = [
  [0x3f, 0x9a, 0x55],
  [0xd9, 0x9a, 0x00],
  [0xe5, 0x48, 0x4d],
] as const;

let db: FreshDatabase;
let bus: Bus;
let stack: Stack;
let base: string;
let profile: string;
let context: BrowserContext;
let page: Page;
let grids: GridView[];

const at = (local: string) => new Date(`${local}+08:00`).toISOString();
const plus = (iso: string, minutes: number) => new Date(Date.parse(iso) + minutes * 60_000).toISOString();

async function api<T>(url: string): Promise<T> {
  const res = await stack.host.inject({ method: 'GET', url, headers: { authorization: `Bearer ${READER}` } });
  if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode} ${res.body}`);
  return res.json<T>();
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One outage: a fault call at `receivedAt`, its crew acknowledging, arriving and restoring power. */
async function outage(districtCode: string, receivedAt: string, arriveAfter: number, restoreAfter: number): Promise<void> {
  const id = randomUUID();
  const request = buildEvent({
    type: 'cn.griddispatch.request.received.v1',
    source: 'intake',
    subject: id,
    data: { id, source: '95598', externalId: `RPT-${id.slice(0, 8)}`, category: 'fault_repair', receivedAt, urgency: 'normal', location: { districtCode } },
  });
  await bus.publish(Topics.requestsReceived, [{ key: id, value: serializeEvent(request) }]);
  await until(
    `the dispatch of ${id}`,
    async () => (await db.pool.query('SELECT 1 FROM routing.work_order_times WHERE work_order_id = $1', [id])).rowCount === 1,
  );
  const crew = (type: 'acknowledged' | 'arrived' | 'resolved', minutes: number) =>
    buildEvent({
      type: 'cn.griddispatch.workorder.updated.v1',
      source: 'intake',
      subject: id,
      data: { workOrderId: id, type, at: plus(receivedAt, minutes), previousStatus: 'assigned', status: type, gridId: null },
    });
  await bus.publish(
    Topics.workordersEvents,
    [crew('acknowledged', 5), crew('arrived', arriveAfter), crew('resolved', restoreAfter)].map((e) => ({ key: id, value: serializeEvent(e) })),
  );
  await until(
    `the restoration of ${id}`,
    async () => (await db.pool.query('SELECT 1 FROM routing.incidents WHERE primary_request_id = $1 AND restored_at IS NOT NULL', [id])).rowCount === 1,
  );
}

beforeAll(async () => {
  db = await freshDatabase('reports_page');
  const logger = createLogger({ service: 'reports-page-test', level: process.env.LOG_LEVEL ?? 'error' });
  bus = createInProcessBus({ prefix: 'griddispatch.', logger });
  const http = parseHttpEnv({ GD_API_KEYS: `board:${READER}:requests:read`, GD_RATE_LIMIT_MAX: '0' });
  stack = await buildStack({ pool: db.pool, bus, logger, http, sampleData: true });
  base = await stack.host.listen({ port: 0, host: '127.0.0.1' });
  grids = (await api<{ items: GridView[] }>('/v1/grids')).items;
  // Per grid and month: an outage on day 10 + g at 10:00; the crew arriving after ARRIVE[g][m]
  // minutes (Houhu is rural: 90 min promised; Tiancheng urban: 45) and restoring power
  // RESTORE[m] + 20·g minutes after that; in September a second, longer one on the 20th (a major
  // event day). Every grid's first 台区 fails 7 times: a repeat 台区 each.
  const ARRIVE = [
    [30, 95, 40, 60, 100, 50],
    [20, 35, 50, 70, 85, 40],
    [30, 40, 50, 35, 25, 44],
    [50, 40, 60, 30, 55, 44],
  ];
  const RESTORE = [30, 80, 20, 120, 45, 60];
  for (const [m, month] of MONTHS.entries()) {
    for (const [g, gridId] of GRIDS.entries()) {
      const district = grids.find((x) => x.id === gridId)!.districts[0]!;
      const start = at(`${month}-${String(10 + g).padStart(2, '0')}T10:00:00`);
      const arrive = ARRIVE[g]![m]!;
      await outage(district, start, arrive, arrive + RESTORE[m]! + 20 * g);
      if (month === '2026-09') await outage(district, at(`${month}-20T08:00:00`), 25, 240 + 60 * g);
    }
  }
  profile = await mkdtemp(join(tmpdir(), 'gd-reports-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: VIEWPORT,
    deviceScaleFactor: 1,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  page = context.pages()[0] ?? (await context.newPage());
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (profile) {
    const left: number[] = [];
    for (const entry of await readdir('/proc')) {
      if (/^\d+$/.test(entry) && (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).includes(profile)) left.push(Number(entry));
    }
    for (const pid of left) process.kill(pid, 'SIGKILL'); // ours only: matched by our fresh profile path
    await rm(profile, { recursive: true, force: true });
    expect(left, 'Chromium processes left behind after close').toEqual([]);
  }
  await stack?.stop();
  await bus?.close();
  await db?.drop();
});

interface Series {
  buckets: { label: string }[];
  series: { key: string; saidi: number[] }[];
}
interface Response {
  rows: { key: string; arrivalOnTime: number | null }[];
  repeatDistricts: { districtCode: string; gridId: string; incidents: number; lon: number | null; lat: number | null }[];
}

describe('reports page in Chromium', () => {
  const range = `from=${encodeURIComponent(at('2026-06-01T00:00:00'))}&to=${encodeURIComponent(at('2026-12-01T00:00:00'))}`;
  const errors: string[] = [];
  const urls: string[] = [];

  it('serves Chart.js from intake, allowed by its hash alone', async () => {
    const html = await fetch(`${base}/board/reports`);
    const csp = html.headers.get('content-security-policy')!;
    const body = await html.text();
    const integrity = /<script src="vendor\/chart\.umd\.min\.js" integrity="(sha256-[^"]+)"><\/script>/.exec(body)?.[1];
    expect(integrity).toBeDefined();
    expect(csp).toMatch(new RegExp(`script-src 'sha256-[^']+' '${integrity!.replace(/[+/]/g, '\\$&')}'(;|$)`));
    expect(csp).not.toMatch(/'self'[^;]*;.*script-src|script-src[^;]*('self'|'unsafe|https?:)/);
    const vendor = await fetch(`${base}/board/vendor/chart.umd.min.js`);
    expect(vendor.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await vendor.text()).length).toBeGreaterThan(100_000);
  });

  it('draws SAIDI per grid per month and on-time arrivals per grid from the report API, and the repeat 台区 on the map', async () => {
    // Errors and CSP violations on the console; failed loads by their URL (the browser's own
    // favicon.ico is not the page's).
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
    });
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) errors.push(`${r.status()} ${r.url()}`);
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => urls.push(r.url()));
    await page.goto(`${base}/board/reports?from=2026-06&to=2026-11#key=${READER}`);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 15_000 });
    expect(errors).toEqual([]);
    expect(urls.filter((u) => u.includes(READER))).toEqual([]);
    expect(page.url()).not.toContain(READER);

    const series = await api<Series>(`/v1/reports/reliability/series?${range}&interval=month`);
    const response = await api<Response>(`/v1/reports/response?${range}`);

    // The lines: one per grid with outages, its points the API's monthly SAIDI.
    const saidi = await page.evaluate(() => {
      const chart = (
        globalThis as unknown as {
          Chart: {
            getChart(id: string): {
              data: { labels: string[]; datasets: { gridId: string; data: number[] }[] };
              getDatasetMeta(i: number): { data: { x: number; y: number }[] };
            };
          };
        }
      ).Chart.getChart('saidi')!;
      return {
        labels: chart.data.labels,
        lines: chart.data.datasets.map((d, i) => ({
          gridId: d.gridId,
          data: d.data,
          drawn: chart.getDatasetMeta(i).data.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).length,
        })),
      };
    });
    expect(saidi.labels).toEqual([...MONTHS]);
    expect(series.buckets.map((b) => b.label)).toEqual([...MONTHS]);
    expect(saidi.lines.map((l) => l.gridId).sort()).toEqual([...GRIDS]);
    for (const line of saidi.lines) {
      expect(line.data, line.gridId).toEqual(series.series.find((s) => s.key === line.gridId)!.saidi);
      expect(
        line.data.every((v) => v > 0),
        line.gridId,
      ).toBe(true);
      expect(line.drawn).toBe(MONTHS.length);
    }

    // The bars: arrivals on time per grid, as the API's shares in per cent.
    const bars = await page.evaluate(() => {
      const chart = (
        globalThis as unknown as {
          Chart: {
            getChart(id: string): { data: { datasets: { gridIds: string[]; data: number[] }[] }; getDatasetMeta(i: number): { data: { height: number }[] } };
          };
        }
      ).Chart.getChart('ontime')!;
      return { gridIds: chart.data.datasets[0]!.gridIds, data: chart.data.datasets[0]!.data, heights: chart.getDatasetMeta(0).data.map((b) => b.height) };
    });
    const expected = response.rows.filter((r) => r.arrivalOnTime !== null);
    expect(bars.gridIds).toEqual(expected.map((r) => r.key));
    expect(bars.gridIds).toEqual(expect.arrayContaining([...GRIDS]));
    expect(bars.data).toEqual(expected.map((r) => Math.round(r.arrivalOnTime! * 1000) / 10));
    // On time (the September extra outages all in time): 5/7, 7/7, 6/7, 4/7.
    expect(GRIDS.map((g) => bars.data[bars.gridIds.indexOf(g)])).toEqual([71.4, 100, 85.7, 57.1]);
    expect(bars.heights.filter((h) => h > 0).length).toBe(bars.data.filter((v) => v > 0).length);

    // The map: a dot per repeat 台区 at its position, sized by its incidents.
    expect(response.repeatDistricts.map((d) => [d.districtCode, d.incidents]).sort()).toEqual(
      GRIDS.map((g) => [grids.find((x) => x.id === g)!.districts[0], 7]).sort(),
    );
    const dots = await page
      .locator('svg#map circle.repeat')
      .evaluateAll((els) => els.map((e) => [e.getAttribute('data-district'), Number(e.getAttribute('data-incidents'))]));
    expect(dots.sort()).toEqual(
      response.repeatDistricts
        .filter((d) => d.lon !== null)
        .map((d) => [d.districtCode, d.incidents])
        .sort(),
    );
    expect(dots.length).toBe(GRIDS.length);
    expect(await page.locator('svg#map path.grid').count()).toBeGreaterThanOrEqual(30);
  });

  it('follows the period and the major-event choice from its controls', async () => {
    await page.fill('#from', '2026-09');
    await page.dispatchEvent('#from', 'change');
    await page.waitForSelector('body[data-state="ready"]');
    await expect
      .poll(() =>
        page.evaluate(
          () => (globalThis as unknown as { Chart: { getChart(id: string): { data: { labels: string[] } } } }).Chart.getChart('saidi')!.data.labels,
        ),
      )
      .toEqual(['2026-09', '2026-10', '2026-11']);
    expect(page.url()).toContain('from=2026-09');
    await page.fill('#from', '2026-06');
    await page.dispatchEvent('#from', 'change');
    await expect
      .poll(() =>
        page.evaluate(
          () => (globalThis as unknown as { Chart: { getChart(id: string): { data: { labels: string[] } } } }).Chart.getChart('saidi')!.data.labels.length,
        ),
      )
      .toBe(6);

    // With the major event day counted, September's points are the API's includeMed=true figures.
    const withMed = await api<Series>(`/v1/reports/reliability/series?${range}&interval=month&includeMed=true`);
    await page.check('#med');
    await expect.poll(() => page.locator('#med-days').textContent()).toContain('已计入');
    const lines = await page.evaluate(() =>
      (globalThis as unknown as { Chart: { getChart(id: string): { data: { datasets: { gridId: string; data: number[] }[] } } } }).Chart.getChart(
        'saidi',
      )!.data.datasets.map((d) => [d.gridId, d.data] as const),
    );
    for (const [gridId, data] of lines) expect(data, gridId).toEqual(withMed.series.find((x) => x.key === gridId)!.saidi);
    expect(page.url()).toContain('includeMed=true');
    await page.uncheck('#med');
    await expect.poll(() => page.locator('#med-days').textContent()).toContain('未计入');
    expect(errors).toEqual([]);
  });

  it('renders a screenshot with real lines and bars', async () => {
    await page.mouse.move(0, VIEWPORT.height - 1);
    const dir = await mkdtemp(join(tmpdir(), 'gd-reports-shot-'));
    try {
      const file = join(dir, 'reports.png');
      await page.screenshot({ path: file });
      const image = decodePng(await readFile(file));
      expect({ width: image.width, height: image.height }).toEqual(VIEWPORT);
      // The first line's blue, and the bars' colours, on screen in quantity (not a blank canvas).
      expect(countColour(image, LINE_BLUE)).toBeGreaterThan(400);
      expect(BAR_COLOURS.map((c) => countColour(image, c)).reduce((a, b) => a + b, 0)).toBeGreaterThan(3000);
      if (process.env.GD_REPORTS_SCREENSHOT) await copyFile(file, process.env.GD_REPORTS_SCREENSHOT);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
