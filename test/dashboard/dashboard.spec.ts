/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// page.evaluate() callbacks run in the browser, so this file sees the DOM types.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { QuarantineService } from '../../src/quality/quarantine/quarantine.service';
import { CHROMIUM, TestBrowser, closeBrowser, launchChromium } from '../support/browser';
import { finishWithin } from '../support/poll';
import { insertExercises, insertLookupStats } from '../support/seed';
import { TestApp, startTestApp } from '../support/test-app';
import { TestDatabase, createTestDatabase } from '../support/test-database';

/**
 * CI must run this test (.ci/run installs Chromium, and a missing browser fails the run). On a
 * developer's machine without a browser, `npm test` still passes: this file is skipped, loudly.
 */
const describeInBrowser = CHROMIUM || process.env.CI ? describe : describe.skip;
if (!CHROMIUM && !process.env.CI) {
  console.warn('dashboard browser test skipped: no Chromium found (apt-get install chromium, or set CHROMIUM_PATH); CI always runs it');
}
const ARTIFACTS = path.join(__dirname, '..', 'artifacts');
const READ_WRITE_KEY = 'dashboard-test-rw-key';
const READ_ONLY_KEY = 'dashboard-test-ro-key';
const CHART_IDS = ['chart-hit-rate', 'chart-lookups', 'chart-entries', 'chart-cost'];
const DAY = 24 * 3600 * 1000;

const isoDay = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY).toISOString().slice(0, 10);

/**
 * Two weeks of history: entries of three types created on different days, lookup outcomes per
 * day, and maintenance runs (one failed); then the daily metrics view is refreshed, as the
 * refresh job would.
 */
async function seed(pool: Pool): Promise<{ lookups: number }> {
  const entries = [];
  for (let i = 0; i < 12; i++) {
    entries.push({
      exerciseType: ['contextual_fill', 'multiple_choice', 'translation'][i % 3],
      difficulty: 1 + (i % 5),
      topics: i === 0 ? ['<img src=x onerror="window.__xss=1">', 'colors'] : [`topic-${i}`, 'grammar'],
      usageCount: i === 5 ? 250 : i === 0 ? 100 : i,
      lastUsedAt: new Date(Date.now() - (i + 1) * 3600 * 1000),
      createdAt: new Date(Date.now() - (i % 10) * DAY - 3600 * 1000),
      expiresAt: new Date(Date.now() + 5 * DAY),
      generationCost: '0.004',
    });
  }
  await insertExercises(pool, entries);
  const stats = [];
  let lookups = 0;
  for (let d = 0; d < 14; d++) {
    const hits = 20 + 3 * d;
    const nearHits = d % 4;
    const misses = 12 - (d % 6);
    lookups += hits + nearHits + misses;
    stats.push({ day: isoDay(d), exerciseType: 'contextual_fill', difficulty: 3, hits, nearHits, misses, costSaved: (hits * 0.004).toFixed(6) });
  }
  // One namespace with a generator version, served stale and coalesced answers today.
  stats.push({ day: isoDay(0), exerciseType: 'contextual_fill', difficulty: 3, namespace: 'school-1', generatorVersion: 'prompt-v7', hits: 5, stale: 3, coalesced: 1, misses: 1, costSaved: '0.036' });
  lookups += 5 + 3 + 1 + 1;
  await insertLookupStats(pool, stats);
  const runs: [string, string, number | null, number | null, string | null, number][] = [
    ['cleanup', 'ok', 4, 12, null, 3],
    ['evict', 'ok', 0, 8, null, 2],
    ['refresh', 'failed', null, 30, 'canceling statement due to statement timeout', 1],
    ['refresh', 'ok', 40, 25, null, 0],
  ];
  for (const [job, status, affected, durationMs, error, hoursAgo] of runs) {
    await pool.query(
      `INSERT INTO exercise_cache_maintenance_runs (job, status, affected, duration_ms, error, instance, trigger, started_at, finished_at)
       VALUES ($1, $2, $3, $4, $5, 'test-host:1:seed', 'scheduled', now() - make_interval(hours => $6), now() - make_interval(hours => $6))`,
      [job, status, affected, durationMs, error, hoursAgo],
    );
  }
  await pool.query('SELECT refresh_exercise_cache_metrics()');
  return { lookups };
}

/** Console errors and uncaught exceptions of a page, collected from the start. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  return errors;
}

async function waitForState(page: Page, state: string): Promise<void> {
  await page.waitForSelector(`body[data-state="${state}"]`, { timeout: 20000 });
}

/** Per chart: painted (non-transparent) pixels of its canvas, and the sum of its data points. */
async function chartSummary(page: Page): Promise<Record<string, { width: number; painted: number; total: number }>> {
  return page.evaluate((ids) => {
    const out: Record<string, { width: number; painted: number; total: number }> = {};
    for (const id of ids) {
      const canvas = document.getElementById(id) as HTMLCanvasElement;
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
      const chart = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: { data: (number | null)[] }[] } } } }).Chart.getChart(canvas);
      const total = chart.data.datasets.flatMap((d) => d.data).reduce<number>((sum, v) => sum + (v ?? 0), 0);
      out[id] = { width: canvas.getBoundingClientRect().width, painted, total };
    }
    return out;
  }, CHART_IDS);
}

const rowsOf = (page: Page, table: string) =>
  page.$$eval(`#${table} tbody tr`, (rows) => rows.map((row) => [...row.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? '')));

describeInBrowser('dashboard in headless Chromium', () => {
  let db: TestDatabase;
  let open: TestApp;
  let locked: TestApp;
  let chromium: TestBrowser | undefined;
  let browser: Browser;
  let seeded: { lookups: number };

  beforeAll(async () => {
    if (!CHROMIUM) {
      throw new Error(
        'Chromium is not installed; the dashboard test needs it in CI. Install the Debian package: ' +
          'apt-get update && apt-get install -y --no-install-recommends chromium (.ci/run does this)',
      );
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    db = await createTestDatabase();
    seeded = await seed(db.pool);
    chromium = await launchChromium();
    browser = chromium.browser;
    open = await startTestApp(db.url, { MAX_ENTRIES: '40' }, { listen: true });
    locked = await startTestApp(db.url, { MAX_ENTRIES: '40', API_KEYS: `${READ_WRITE_KEY},${READ_ONLY_KEY}:ro` }, { listen: true });
  });

  // Each step is bounded and named, so a teardown that stalls says where (CI once reported only
  // Jest's generic hook timeout here); a browser that will not exit is killed (closeBrowser).
  afterAll(async () => {
    await closeBrowser(chromium);
    if (open) await finishWithin(open.close(), 20000, 'closing the app without API keys');
    if (locked) await finishWithin(locked.close(), 20000, 'closing the app with API keys');
    await db?.drop();
  }, 90000);

  let context: BrowserContext;
  afterEach(async () => {
    await context?.close();
  });

  it('renders every chart, table and total from seeded data, with no console errors', async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${open.url}/dashboard`);
    await waitForState(page, 'ready');

    const charts = await chartSummary(page);
    for (const id of CHART_IDS) {
      expect({ id, drawn: charts[id].painted > 500 }).toEqual({ id, drawn: true });
      expect({ id, hasData: charts[id].total > 0 }).toEqual({ id, hasData: true });
    }
    // Lookups per day is the three stacked series: together they are every seeded lookup.
    expect(charts['chart-lookups'].total).toBe(seeded.lookups);
    expect(charts['chart-entries'].total).toBe(12);

    expect(await page.textContent('#kpi-lookups')).toBe(seeded.lookups.toLocaleString('en-US'));
    expect(await page.textContent('#kpi-size')).toBe('12');
    expect(await page.textContent('#kpi-size-sub')).toContain('of 40 (30 %)');

    const types = await rowsOf(page, 'table-types');
    expect(types.map((r) => r[0]).sort()).toEqual(['contextual_fill', 'multiple_choice', 'translation']);
    const popular = await rowsOf(page, 'table-popular');
    expect(popular[0][3]).toBe('250');
    const lru = await rowsOf(page, 'table-lru');
    expect(lru).toHaveLength(10);
    expect(lru[0][2]).toBe('topic-11, grammar'); // last used 12 hours ago: the first to go
    const runs = await rowsOf(page, 'table-runs');
    expect(runs.map((r) => `${r[0]} ${r[1]}`)).toEqual(['refresh ok', 'refresh failed', 'evict ok', 'cleanup ok']);
    expect(runs[1][5]).toContain('statement timeout');

    // A topic is shown as text, never interpreted as markup.
    expect(await page.locator('#table-popular').getByText('<img src=x onerror="window.__xss=1">, colors').count()).toBeGreaterThan(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();

    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-desktop.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('shows stale and coalesced answers, namespaces and generator versions, and narrows to a namespace', async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${open.url}/dashboard`);
    await waitForState(page, 'ready');
    expect(await page.textContent('#kpi-lookups-sub')).toContain('3 stale · 1 coalesced');
    const namespaces = await rowsOf(page, 'table-namespaces');
    expect(namespaces.find((r) => r[0] === 'school-1')?.slice(2)).toEqual(['10', '50 %', '3']);
    expect((await rowsOf(page, 'table-versions')).map((r) => r[0])).toEqual(expect.arrayContaining(['prompt-v7', '(none)']));

    await page.selectOption('#namespace', 'school-1');
    await page.waitForFunction(() => document.getElementById('versions-scope')?.textContent === 'namespace school-1');
    expect(await page.textContent('#kpi-lookups')).toBe('10');
    expect(await page.textContent('#kpi-hit-rate')).toBe('50 %');
    expect(await page.textContent('#kpi-hit-rate-sub')).toContain('30 % stale');
    expect(await rowsOf(page, 'table-versions')).toEqual([['prompt-v7', '0', '10', '50 %', '3']]);
    expect((await chartSummary(page))['chart-lookups'].total).toBe(10);
    expect(errors).toEqual([]);
  });

  it('refreshes itself every 30 seconds', async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.clock.install();
    await page.goto(`${open.url}/dashboard`);
    await waitForState(page, 'ready');
    expect(await page.getAttribute('body', 'data-loads')).toBe('1');

    await insertExercises(db.pool, [{ exerciseType: 'late_arrival' }]);
    await page.clock.fastForward(29_000);
    expect(await page.getAttribute('body', 'data-loads')).toBe('1');
    await page.clock.fastForward(2_000);
    await page.waitForSelector('body[data-loads="2"]', { timeout: 20000 });
    expect(await page.textContent('#kpi-size')).toBe('13');
    expect((await rowsOf(page, 'table-types')).map((r) => r[0])).toContain('late_arrival');
    expect(errors).toEqual([]);
    await db.pool.query("DELETE FROM exercise_cache WHERE exercise_type = 'late_arrival'");
  });

  it('asks for an API key when API_KEYS is set: a wrong key is refused, the right one shows the data', async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    const dataRequests: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/dashboard/data')) dataRequests.push(request.headers()['authorization'] ?? '(none)');
    });

    await page.goto(`${locked.url}/dashboard`);
    await waitForState(page, 'key-required');
    expect(await page.isVisible('#key-form')).toBe(true);
    expect(await page.isVisible('#content')).toBe(false);
    expect(dataRequests).toEqual([]); // the page knows a key is needed and does not ask without one

    await page.fill('#key-input', 'not-a-key');
    await page.click('#key-form button[type=submit]');
    await page.waitForSelector('#key-error:not([hidden])');
    expect(await page.textContent('#key-error')).toContain('invalid API key');
    expect(await page.isVisible('#content')).toBe(false);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0); // a refused key is not kept
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-key-form.png') });

    await page.fill('#key-input', READ_WRITE_KEY);
    await page.click('#key-form button[type=submit]');
    await waitForState(page, 'ready');
    expect(dataRequests).toEqual(['Bearer not-a-key', `Bearer ${READ_WRITE_KEY}`]);
    const charts = await chartSummary(page);
    for (const id of CHART_IDS) expect({ id, drawn: charts[id].painted > 500 }).toEqual({ id, drawn: true });
    expect((await rowsOf(page, 'table-runs')).length).toBe(4);

    // The key lives for the tab's session: a reload goes straight to the data.
    await page.reload();
    await waitForState(page, 'ready');

    await page.click('#forget-key');
    await waitForState(page, 'key-required');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    // The only console errors are Chromium's reports of the one refused request (401).
    expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
    expect(errors.filter((e) => /status of 401/.test(e)).length).toBeLessThanOrEqual(2);
  });

  it('works with a read-only key, maintenance history included', async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${locked.url}/dashboard`);
    await waitForState(page, 'key-required');
    await page.fill('#key-input', READ_ONLY_KEY);
    await page.click('#key-form button[type=submit]');
    await waitForState(page, 'ready');
    const runs = await rowsOf(page, 'table-runs');
    // Reading the run history is a read; running a job needs a read-write key.
    const direct = await fetch(`${locked.url}/exercise-cache/maintenance/runs?limit=10`, { headers: { 'X-API-Key': READ_ONLY_KEY } });
    expect({ status: direct.status, rows: runs.length }).toEqual({ status: 200, rows: 4 });
    expect((await chartSummary(page))['chart-cost'].total).toBeGreaterThan(0);
  });

  it('fits a phone-size viewport (390x844) without horizontal scrolling', async () => {
    context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${open.url}/dashboard`);
    await waitForState(page, 'ready');
    const charts = await chartSummary(page);
    for (const id of CHART_IDS) {
      expect({ id, fits: charts[id].width > 200 && charts[id].width <= 390, drawn: charts[id].painted > 500 }).toEqual({ id, fits: true, drawn: true });
    }
    const pageWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(pageWidth).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('serves the page and its assets without a key, and the data only with one', async () => {
    const page = await fetch(`${locked.url}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('data-auth-required="true"');
    for (const asset of html.match(/\/dashboard\/assets\/[\w.]+\?v=[\w-]+/g) ?? []) {
      const response = await fetch(`${locked.url}${asset}`);
      expect({ asset, status: response.status }).toEqual({ asset, status: 200 });
      const etag = response.headers.get('etag')!;
      expect((await fetch(`${locked.url}${asset}`, { headers: { 'If-None-Match': etag } })).status).toBe(304);
    }
    expect(html.match(/\/dashboard\/assets\//g)).toHaveLength(3);
    expect((await fetch(`${locked.url}/dashboard/assets/package.json`)).status).toBe(404);
    expect((await fetch(`${locked.url}/dashboard/data`)).status).toBe(401);
    const data = await fetch(`${locked.url}/dashboard/data?days=7`, { headers: { 'X-API-Key': READ_ONLY_KEY } });
    expect(data.status).toBe(200);
    const body = (await data.json()) as { days: number; daily: unknown[]; size: { maxEntries: number } };
    expect(body.days).toBe(7);
    expect(body.daily).toHaveLength(7);
    expect(body.size.maxEntries).toBe(40);
    const bad = await fetch(`${locked.url}/dashboard/data?days=0`, { headers: { 'X-API-Key': READ_ONLY_KEY } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string[] }).message).toEqual(['days must be an integer from 1 to 365']);
  });

  // Last: it adds entries, which the totals checked above do not count.
  it('shows quarantined entries with their reports; Release serves one again, Delete removes the other', async () => {
    const [released, deleted] = await insertExercises(db.pool, [
      { exerciseType: 'contextual_fill', topics: ['release-me'], expiresAt: new Date(Date.now() + DAY) },
      { exerciseType: 'translation', topics: ['delete-me'], expiresAt: new Date(Date.now() + DAY) },
    ]);
    const quarantine = open.app.get(QuarantineService);
    expect(await quarantine.report(released, { reason: 'answer <b>wrong</b>', reporter: 'l1' })).toMatchObject({ quarantined: true });
    expect(await quarantine.report(deleted, { reason: 'not a translation' })).toMatchObject({ quarantined: true });

    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${open.url}/dashboard`);
    await waitForState(page, 'ready');
    const rows = await rowsOf(page, 'table-quarantine');
    expect(rows.map((r) => [r[0], r[2], r[3]]).sort()).toEqual([
      ['contextual_fill', 'release-me', 'answer <b>wrong</b>'],
      ['translation', 'delete-me', 'not a translation'],
    ]);
    const types = await rowsOf(page, 'table-types');
    expect(types.find((r) => r[0] === 'translation')?.slice(6)).toEqual(['1', '1']);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-quarantine.png'), fullPage: true });

    await page.click(`#table-quarantine button.secondary[data-key="${released}"]`);
    await page.waitForFunction((key) => !document.querySelector(`#table-quarantine button[data-key="${key}"]`), released);
    await page.click(`#table-quarantine button.danger[data-key="${deleted}"]`);
    await page.waitForFunction(() => document.querySelector('#table-quarantine td.empty')?.textContent === 'No entries in quarantine.');
    const { rows: left } = await db.pool.query('SELECT cache_key, quarantined_at FROM exercise_cache WHERE cache_key = ANY($1)', [[released, deleted]]);
    expect(left).toEqual([{ cache_key: released, quarantined_at: null }]);
    expect(errors).toEqual([]);
  });
});
