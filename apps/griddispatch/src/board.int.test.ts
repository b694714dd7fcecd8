import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessBus, type Bus } from '@griddispatch/bus';
import { buildEvent, EventTypeName, serializeEvent, Topics, type EventData, type GridView, type RequestView } from '@griddispatch/contracts';
import { parseHttpEnv } from '@griddispatch/http';
import { createLogger } from '@griddispatch/observability';
import { freshDatabase, type FreshDatabase } from '@griddispatch/testkit';
import { buildStack, type Stack } from './stack.ts';
import { decodePng } from './testing/png.ts';

// The dispatch board (/board, served by intake) in headless Chromium against the embedded stack:
// sample county, in-process bus, real PostgreSQL, one HTTP host on 127.0.0.1:0. Debian's
// chromium with the flags below (no sandbox, GPU, QUIC or background traffic); `.ci/run` installs
// it when missing.
// GD_BOARD_SCREENSHOT=<path> also saves the final screenshot there (docs/board.png).

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
const READER = 'board-reader-secret-01';
const WRITER = 'board-writer-secret-01';
const BREACH_RED = [0xe5, 0x48, 0x4d] as const;

let db: FreshDatabase;
let bus: Bus;
let stack: Stack;
let base: string;
let profile: string;
let context: BrowserContext;
let page: Page;
let grids: GridView[];

/** Chromium processes started with our profile directory (ours alone: the path is fresh). */
async function chromiumProcesses(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(profile)) pids.push(Number(entry));
  }
  return pids;
}

beforeAll(async () => {
  db = await freshDatabase('board');
  const logger = createLogger({ service: 'board-test', level: process.env.LOG_LEVEL ?? 'warn' });
  bus = createInProcessBus({ prefix: 'griddispatch.', logger });
  const http = parseHttpEnv({ GD_API_KEYS: `board:${READER}:requests:read,desk:${WRITER}:requests:write+workorders:write`, GD_RATE_LIMIT_MAX: '0' });
  stack = await buildStack({ pool: db.pool, bus, logger, http, sampleData: true });
  base = await stack.host.listen({ port: 0, host: '127.0.0.1' });
  grids = ((await api('GET', '/v1/grids')) as { items: GridView[] }).items;
  profile = await mkdtemp(join(tmpdir(), 'gd-board-chromium-'));
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
});

afterAll(async () => {
  await context?.close();
  if (profile) {
    const left = await chromiumProcesses();
    for (const pid of left) process.kill(pid, 'SIGKILL'); // ours only: matched by our fresh profile path
    await rm(profile, { recursive: true, force: true });
    expect(left, 'Chromium processes left behind after close').toEqual([]);
  }
  await stack?.stop();
  await bus?.close();
  await db?.drop();
});

async function api(method: 'GET' | 'POST', url: string, payload?: unknown): Promise<unknown> {
  const res = await stack.host.inject({
    method,
    url,
    headers: { authorization: `Bearer ${method === 'GET' ? READER : WRITER}` },
    ...(payload ? { payload: payload as object } : {}),
  });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json();
}

async function postRequest(districtCode: string, over: Record<string, unknown> = {}): Promise<string> {
  const body = {
    source: '95598',
    externalId: `BOARD-${Math.random().toString(36).slice(2, 10)}`,
    category: 'fault_repair',
    description: '停电报修',
    customer: { classes: ['resident'] },
    location: { districtCode },
    ...over,
  };
  return ((await api('POST', '/v1/requests', body)) as { id: string }).id;
}

async function assigned(id: string): Promise<RequestView> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const view = (await api('GET', `/v1/requests/${id}`)) as RequestView;
    if (view.grid && view.sla) return view;
    if (Date.now() > deadline) throw new Error(`request ${id} was not routed: ${JSON.stringify(view)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function publishSla<T extends typeof EventTypeName.slaBreached | typeof EventTypeName.slaWarning>(type: T, data: EventData<T>): Promise<void> {
  const event = buildEvent({ type, source: 'sla-timer', subject: data.workOrderId, data });
  await bus.publish(type === EventTypeName.slaBreached ? Topics.slaBreaches : Topics.slaWarnings, [{ key: data.workOrderId, value: serializeEvent(event) }]);
}

const row = (id: string) => page.locator(`#rows tr[data-id="${id}"]`);
const districtOf = (gridId: string) => grids.find((g) => g.id === gridId)!.districts[0]!;

describe('dispatch board in Chromium', () => {
  let breachedId: string;

  it('draws the sample county’s grids and goes live', async () => {
    const urls: string[] = [];
    page.on('request', (request) => urls.push(request.url()));
    // The key in the fragment: it never reaches a server, a log or a Referer.
    await page.goto(`${base}/board#key=${READER}`);
    await page.waitForSelector('body[data-state="live"]', { timeout: 15_000 });
    // No request carried the key in its URL; the event stream took a short-lived token.
    expect(urls.filter((u) => u.includes(READER))).toEqual([]);
    expect(urls.some((u) => /\/v1\/events\/stream\?.*token=gdst_/.test(u))).toBe(true);
    const withPolygon = grids.filter((g) => g.polygon !== null).length;
    expect(withPolygon).toBeGreaterThanOrEqual(30);
    expect(await page.locator('svg#map path.grid').count()).toBeGreaterThanOrEqual(withPolygon);
    expect(await page.locator('svg#map text.panel-title').allTextContents()).toEqual(['后湖供电所', '天城镇']);
    // The key left the address bar (kept for the tab only).
    expect(page.url()).not.toContain(READER);
    expect(await page.locator('#conn-text').textContent()).toBe('实时');
  });

  it('shows a new request within seconds over the event stream, with a running countdown', async () => {
    const id = await postRequest(districtOf('HH-G03'), { customer: { classes: ['aquaculture'] }, description: '鱼塘增氧机停电' });
    await row(id).waitFor({ timeout: 5000 });
    const view = await assigned(id);
    await expect.poll(() => row(id).locator('td').first().textContent(), { timeout: 5000 }).toBe(view.grid!.name);
    const cells = await row(id).locator('td').allTextContents();
    expect(cells[1]).toBe('故障报修');
    expect(cells[4]).toMatch(/^接单\d\d:\d\d/);
    const before = await row(id).locator('.cd').textContent();
    await expect.poll(() => row(id).locator('.cd').textContent(), { timeout: 3000 }).not.toBe(before);
    expect(Number(await page.locator('#updates').textContent())).toBeGreaterThan(0);
    breachedId = id;
  });

  it('highlights a breach as soon as sla.breached is published', async () => {
    const view = await assigned(breachedId);
    await publishSla(EventTypeName.slaBreached, {
      workOrderId: breachedId,
      gridId: view.grid!.id,
      policy: view.sla!.policy,
      stage: 'ack',
      deadline: view.sla!.deadlines.ack!,
      latenessMs: 1000,
      level: 1,
      notify: ['assistant', 'repair_crew'],
      late: false,
    });
    await page.waitForSelector(`#rows tr.breached[data-id="${breachedId}"]`, { timeout: 5000 });
    expect(await row(breachedId).locator('.badge').textContent()).toBe('接单超时 L1');
    await expect.poll(() => page.locator(`path.grid[data-grid="${view.grid!.id}"]`).getAttribute('class')).toContain('s3');
    expect(await page.locator('#breached-count').textContent()).toBe('1');
    // The breached row comes first.
    expect(await page.locator('#rows tr').first().getAttribute('data-id')).toBe(breachedId);
  });

  it('filters by category and by grid (a grid and everything below it)', async () => {
    const billing = await postRequest(districtOf('TC-G01'), { category: 'billing', description: '电费异常' });
    await row(billing).waitFor({ timeout: 5000 });

    await page.selectOption('#category-filter', 'billing');
    await row(breachedId).waitFor({ state: 'detached', timeout: 5000 });
    await row(billing).waitFor({ timeout: 5000 });

    await page.selectOption('#category-filter', '');
    await page.selectOption('#grid-filter', 'HH');
    await row(breachedId).waitFor({ timeout: 5000 });
    await row(billing).waitFor({ state: 'detached', timeout: 5000 });
    expect(page.url()).toContain('grid=HH');

    // Clicking a grid on the map selects it; clicking again clears the filter.
    await page.locator('path.grid[data-grid="TC-G01"]').click();
    await row(billing).waitFor({ timeout: 5000 });
    await row(breachedId).waitFor({ state: 'detached', timeout: 5000 });
    expect(await page.locator('#grid-filter').inputValue()).toBe('TC-G01');
    await page.locator('path.grid[data-grid="TC-G01"]').click();
    await row(breachedId).waitFor({ timeout: 5000 });
    expect(await page.locator('#conn-text').textContent()).toBe('实时');
  });

  it('shows incidents above the work orders: size, status, ETR, and 台区 incidents under their feeder incident, live', async () => {
    const hh3 = grids.find((g) => g.id === 'HH-G03')!;
    const [d1, d2, d3] = hh3.districts;
    const now = Date.now();
    const iso = (ms: number) => new Date(now + ms).toISOString();
    const incident = (over: Partial<EventData<typeof EventTypeName.incidentOpened>>): EventData<typeof EventTypeName.incidentOpened> => ({
      id: 'INC-BOARD-1',
      status: 'dispatched',
      origin: 'call',
      kind: 'district',
      gridId: 'HH-G03',
      feederCode: 'HH-F03',
      districtCodes: [d1!],
      parentId: null,
      childIds: [],
      callCount: 1,
      affectedCustomers: 10,
      urgency: 'urgent',
      openedAt: iso(-600_000),
      etr: iso(2 * 3_600_000),
      etrSource: 'policy',
      // A primary already (the call that opened it): no work order of the incident's own.
      primaryRequestId: '7a6c1f4e-1111-4222-8333-944455556666',
      plannedOutageId: null,
      restoredAt: null,
      restorationUnconfirmed: false,
      updatedAt: iso(-600_000),
      change: 'opened',
      ...over,
    });
    const publish = async (
      type: typeof EventTypeName.incidentOpened | typeof EventTypeName.incidentUpdated | typeof EventTypeName.incidentRestored,
      data: EventData<typeof EventTypeName.incidentOpened>,
    ) => {
      const event = buildEvent({ type, source: 'grid-routing', subject: data.id, data });
      await bus.publish(Topics.incidentsEvents, [{ key: data.id, value: serializeEvent(event) }]);
    };
    const incidentRow = (id: string) => page.locator(`#incident-rows tr[data-incident="${id}"]`);

    await publish(EventTypeName.incidentOpened, incident({ id: 'INC-BOARD-1', districtCodes: [d1!], callCount: 5, affectedCustomers: 120 }));
    await publish(EventTypeName.incidentOpened, incident({ id: 'INC-BOARD-2', districtCodes: [d2!], callCount: 2, affectedCustomers: 45, status: 'open' }));
    await incidentRow('INC-BOARD-2').waitFor({ timeout: 5000 });
    expect(await page.locator('#incidents-panel').isVisible()).toBe(true);
    const cells = await incidentRow('INC-BOARD-1').locator('td').allTextContents();
    expect(cells[0]).toContain('INC-BOARD-1');
    expect(cells.slice(1, 5)).toEqual(['已派单', d1, '5', '120']);
    const etr = new Date(now + 2 * 3_600_000).toLocaleTimeString('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    expect(cells[5]).toContain(etr);

    // A third 台区 faults: grid-routing nests the three under a feeder incident, whose row leads with its children under it.
    const children = ['INC-BOARD-1', 'INC-BOARD-2', 'INC-BOARD-3'];
    await publish(
      EventTypeName.incidentOpened,
      incident({
        id: 'INC-BOARD-F',
        kind: 'feeder',
        districtCodes: [d1!, d2!, d3!],
        childIds: children,
        callCount: 0,
        affectedCustomers: 200,
        openedAt: iso(-1000),
        updatedAt: iso(-1000),
      }),
    );
    await publish(
      EventTypeName.incidentUpdated,
      incident({
        id: 'INC-BOARD-1',
        districtCodes: [d1!],
        callCount: 6,
        affectedCustomers: 120,
        parentId: 'INC-BOARD-F',
        updatedAt: iso(-900),
        change: 'nested',
      }),
    );
    await publish(
      EventTypeName.incidentUpdated,
      incident({
        id: 'INC-BOARD-2',
        districtCodes: [d2!],
        callCount: 2,
        affectedCustomers: 45,
        status: 'open',
        parentId: 'INC-BOARD-F',
        updatedAt: iso(-900),
        change: 'nested',
      }),
    );
    await publish(
      EventTypeName.incidentOpened,
      incident({
        id: 'INC-BOARD-3',
        districtCodes: [d3!],
        callCount: 1,
        affectedCustomers: 35,
        parentId: 'INC-BOARD-F',
        primaryRequestId: null,
        status: 'open',
        openedAt: iso(-800),
        updatedAt: iso(-800),
      }),
    );
    await incidentRow('INC-BOARD-3').waitFor({ timeout: 5000 });
    await expect.poll(() => incidentRow('INC-BOARD-1').locator('td').nth(3).textContent(), { timeout: 5000 }).toBe('6');
    // Only this test's incidents: the calls of the tests before it opened real ones on this stack.
    const order = async () =>
      page
        .locator('#incident-rows tr[data-incident^="INC-BOARD"]')
        .evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-incident')}${r.classList.contains('child') ? ' ↳' : ''}`));
    await expect.poll(order, { timeout: 5000 }).toEqual(['INC-BOARD-F', 'INC-BOARD-3 ↳', 'INC-BOARD-1 ↳', 'INC-BOARD-2 ↳']);
    expect(await incidentRow('INC-BOARD-F').locator('.kind').textContent()).toBe('馈线 HH-F03');
    expect(await page.locator('#incident-count').textContent()).toBe(String(await page.locator('#incident-rows tr').count()));

    // Power back on one 台区: its row leaves; the rest stay.
    await publish(
      EventTypeName.incidentRestored,
      incident({
        id: 'INC-BOARD-2',
        districtCodes: [d2!],
        status: 'restored',
        parentId: 'INC-BOARD-F',
        restoredAt: iso(0),
        updatedAt: iso(0),
        change: 'status',
      }),
    );
    await incidentRow('INC-BOARD-2').waitFor({ state: 'detached', timeout: 5000 });
    expect(await order()).toEqual(['INC-BOARD-F', 'INC-BOARD-3 ↳', 'INC-BOARD-1 ↳']);

    // A later call from 台区 d1 is merged into INC-BOARD-1 (grid-routing's dispatch.assigned with
    // role merged): its row says so and shows the incident's ETR instead of a countdown; when the
    // incident is restored, the merged call is resolved with it and leaves the board.
    // (A complaint, so the stack's own grid-routing puts it in no incident of its own first.)
    const call = await postRequest(d1!, { description: '又一户停电', category: 'complaint' });
    const view = await assigned(call);
    const merged: EventData<typeof EventTypeName.dispatchAssigned> = {
      workOrderId: call,
      request: {
        id: call,
        source: view.source,
        externalId: view.externalId,
        category: view.category,
        receivedAt: view.receivedAt,
        urgency: 'normal',
        location: { districtCode: d1! },
      },
      grid: { ...view.grid!, areaType: 'rural' },
      resolvedBy: 'district',
      districtCode: d1!,
      assignees: view.assignees,
      contacts: [],
      customerClasses: ['resident'],
      homeVisit: false,
      incidentId: 'INC-BOARD-1',
      incidentSize: 7,
      role: 'merged',
      etr: iso(2 * 3_600_000),
      urgency: 'normal',
      sla: { policy: view.sla!.policy, deadlines: view.sla!.deadlines, warnBeforeMs: null, escalation: [], calendar: null },
    };
    await bus.publish(Topics.dispatchAssigned, [
      { key: view.grid!.id, value: serializeEvent(buildEvent({ type: EventTypeName.dispatchAssigned, source: 'grid-routing', subject: call, data: merged })) },
    ]);
    await expect.poll(() => row(call).locator('td').nth(2).textContent(), { timeout: 5000 }).toBe('已派单 并入事件');
    expect(await row(call).locator('td').nth(4).textContent()).toBe(`预计复电${etr}`);
    await publish(
      EventTypeName.incidentRestored,
      incident({
        id: 'INC-BOARD-1',
        districtCodes: [d1!],
        status: 'restored',
        parentId: 'INC-BOARD-F',
        callCount: 7,
        restoredAt: iso(1000),
        updatedAt: iso(1000),
        change: 'status',
      }),
    );
    await row(call).waitFor({ state: 'detached', timeout: 5000 });
    expect(((await api('GET', `/v1/requests/${call}`)) as RequestView).status).toBe('resolved');
    await incidentRow('INC-BOARD-1').waitFor({ state: 'detached', timeout: 5000 });

    // A board of another grid shows none of them; a reload rebuilds the panel from the snapshot.
    await page.selectOption('#grid-filter', 'TC-G01');
    await expect.poll(() => page.locator('#incident-rows tr').count(), { timeout: 5000 }).toBe(0);
    expect(await page.locator('#incidents-panel').isVisible()).toBe(false);
    await page.selectOption('#grid-filter', '');
    await expect.poll(order, { timeout: 5000 }).toEqual(['INC-BOARD-F', 'INC-BOARD-3 ↳']);
    await page.reload();
    await page.waitForSelector('body[data-state="live"]', { timeout: 15_000 });
    await expect.poll(order, { timeout: 5000 }).toEqual(['INC-BOARD-F', 'INC-BOARD-3 ↳']);
  });

  it('renders a screenshot that is a real board, not a blank page', async () => {
    // A busier board for the picture: a warning and open work in several grids.
    const warned = await postRequest(districtOf('HH-G05'), { customer: { classes: ['cold_storage'] } });
    for (const [grid, category] of [
      ['HH-G01', 'new_connection'],
      ['HH-G06', 'complaint'],
      ['TC-G05', 'fault_repair'],
      ['TC-G12', 'consultation'],
      ['TC-G14', 'fault_repair'],
    ] as const) {
      await postRequest(districtOf(grid), { category });
    }
    const view = await assigned(warned);
    await publishSla(EventTypeName.slaWarning, {
      workOrderId: warned,
      gridId: view.grid!.id,
      policy: view.sla!.policy,
      stage: 'ack',
      deadline: view.sla!.deadlines.ack!,
      remainingMs: 120_000,
      late: false,
    });
    await page.waitForSelector(`#rows tr.warning[data-id="${warned}"]`, { timeout: 5000 });
    await expect.poll(() => page.locator('#rows tr').count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(8);
    await page.mouse.move(0, VIEWPORT.height - 1); // no hover outline in the picture
    await page.waitForTimeout(1300); // let the update flash fade

    const dir = await mkdtemp(join(tmpdir(), 'gd-board-shot-'));
    try {
      const file = join(dir, 'board.png');
      await page.screenshot({ path: file });
      const png = await readFile(file);
      expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
      expect({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) }).toEqual(VIEWPORT);

      // Not a blank page: many distinct colours, and the breach red on screen.
      const image = decodePng(png);
      const colours = new Set<number>();
      let breachRed = 0;
      for (let i = 0; i < image.pixels.length; i += image.channels) {
        const [r, g, b] = [image.pixels[i]!, image.pixels[i + 1]!, image.pixels[i + 2]!];
        colours.add((r << 16) | (g << 8) | b);
        if (Math.abs(r - BREACH_RED[0]) < 8 && Math.abs(g - BREACH_RED[1]) < 8 && Math.abs(b - BREACH_RED[2]) < 8) breachRed++;
      }
      const pixels = { colours: colours.size, breachRed };
      expect(pixels.colours).toBeGreaterThan(200);
      expect(pixels.breachRed).toBeGreaterThan(500);
      if (process.env.GD_BOARD_SCREENSHOT) await copyFile(file, process.env.GD_BOARD_SCREENSHOT);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
