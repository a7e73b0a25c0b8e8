import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startLocalSuite, type LocalSuite } from '../../scripts/local-suite.mjs';
import { ROOT } from '../../scripts/workers.mjs';

/**
 * The ops dashboard in a real browser (Debian's chromium driven by playwright-core; nothing is
 * downloaded) against the whole suite in workerd: sign in, break the catalog from the page, watch
 * its breaker open, heal it from the page, watch it close; place an order and see its saga's
 * waterfall; read numbers off the traffic and ratio panels; move canary weights; redrive a
 * delivery dead-lettered by chaos from the DLQ panel; act on STUCK sagas; retry a parked outbox
 * row. After each phase the status line must name no failed panel (a panel that throws shows
 * there, not as a page error). Every wait is a deadline on something the page shows, never a fixed sleep.
 */

const CHROMIUM_CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => Boolean(p));
const ARTIFACTS = join(ROOT, 'test/artifacts');

// Short breaker timings so it goes round closed → open → half-open → closed in seconds; no retries
// and no response cache, so every request reaches the breaker.
const catalogPolicy = { catalog: { retry: false, timeoutMs: 2_000, breaker: { minimumCalls: 4, failureRateThreshold: 50, openDurationMs: 1_500, halfOpenMaxCalls: 1 } } };

const breakerCard = (state: string) => `li.card[data-upstream="catalog"][data-state="${state}"]`;
const PRODUCT = { id: 'browser-widget', priceCents: 1250 };
const CATALOG_ROW = '#routes tbody tr[data-route="catalog /api/catalog/*"]';

let suite: LocalSuite;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

/** Sends one request to the catalog through the gateway; its answer does not matter, only the breaker's view of it. */
async function catalogRequest(i: number): Promise<number> {
  const response = await fetch(suite.url(`/api/catalog/products?q=browser-${i}`));
  await response.arrayBuffer();
  return response.status;
}

/**
 * Drives catalog traffic until the page shows `selector`: a few requests, then up to one poll
 * interval and a bit for the page to show it, again until the deadline.
 */
async function trafficUntilPageShows(selector: string, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (let i = 0; Date.now() < deadline; i++) {
    await catalogRequest(i);
    const shown = await page.waitForSelector(selector, { timeout: 2_500 }).catch(() => null);
    if (shown) return;
  }
  throw new Error(`the dashboard did not show ${selector} within ${deadlineMs} ms`);
}

/** Every panel's last read worked: a render that throws lands in #status as "failed: <panel>: ...". */
async function expectNoFailedPanel(): Promise<void> {
  expect(await page.locator('#status').innerText()).not.toContain('failed:');
}

/** The catalog row's Req/s and p50 cells, once a window between two polls held catalog requests. */
async function catalogRowNumbers(deadlineMs: number): Promise<{ rate: number; p50: number }> {
  let i = 0;
  let cells: string[] = [];
  await expect
    .poll(
      async () => {
        await catalogRequest(1_000 + i++);
        cells = await page.locator(`${CATALOG_ROW} td`).allInnerTexts();
        return /^\d+(\.\d+)?$/.test(cells[4] ?? '') && /^\d+(\.\d+)?$/.test(cells[5] ?? '');
      },
      { timeout: deadlineMs, interval: 500 },
    )
    .toBe(true);
  return { rate: Number(cells[4]), p50: Number(cells[5]) };
}

beforeAll(async () => {
  const executablePath = CHROMIUM_CANDIDATES.find((p) => existsSync(p));
  if (!executablePath) throw new Error(`No chromium found (tried ${CHROMIUM_CANDIDATES.join(', ')}): apt-get install chromium, or set CHROMIUM_PATH.`);
  [suite, browser] = await Promise.all([
    startLocalSuite({
      buildPrefix: 'browser',
      workerVars: {
        gateway: { ROUTE_POLICIES: JSON.stringify(catalogPolicy), CACHE_ENABLED: 'false', BREAKER_REPORT_INTERVAL_MS: '0', METRICS_FLUSH_INTERVAL_MS: '0' },
        // Chaos switched from the page is seen by the catalog's next request.
        catalog: { CHAOS_REFRESH_MS: '0' },
        // Chaos on the notifications' deliveries, seen by the next delivery.
        notifications: { CHAOS_REFRESH_MS: '0' },
        // A charge failing in transit is given up after 5 s, so a saga reaches its compensation quickly.
        orders: { SAGA_DEADLINE_MS: '5000' },
        payments: { CHAOS_REFRESH_MS: '0' },
      },
      // QStash's backoff a thousand times shorter: a delivery failing every attempt reaches the DLQ in well under a second.
      qstash: { retryDelayScale: 0.001 },
    }),
    chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] }),
  ]);
  await suite
    .db('catalog')
    .prepare("INSERT INTO products (id, name, description, price_cents, currency, stock) VALUES (?, ?, '', ?, 'USD', ?)")
    .bind(PRODUCT.id, PRODUCT.id, PRODUCT.priceCents, 100)
    .run();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // Script errors and Content-Security-Policy refusals both surface here: the page must have none.
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
}, 240_000);

/** Opens the dashboard on `page` and signs in with the operator token. */
async function signIn(page: Page): Promise<void> {
  await page.goto(suite.url('/_ops'));
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Signs in on a new page of the same browser. */
async function signedInPage(): Promise<Page> {
  const fresh = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  fresh.on('pageerror', (error) => pageErrors.push(error.message));
  await signIn(fresh);
  await fresh.waitForSelector(breakerCard('closed'), { timeout: 10_000 });
  return fresh;
}

/** A problem+json answer the browser gives for the suite (an endpoint as it answers where a setting is off). */
const problemAnswer = (status: number, type: string, title: string, detail: string) => ({
  status,
  contentType: 'application/problem+json',
  body: JSON.stringify({ type, title, status, detail }),
});

async function chaos(service: string, settings: Record<string, unknown> | null): Promise<void> {
  const response = await fetch(suite.url(`/_ops/chaos/${service}`), {
    method: settings ? 'PUT' : 'DELETE',
    headers: { ...suite.operator, 'content-type': 'application/json' },
    body: settings ? JSON.stringify(settings) : undefined,
  });
  if (!response.ok) throw new Error(`chaos ${service}: ${response.status} ${await response.text()}`);
}

interface DeadLetter {
  dlqId: string;
  url: string;
  topicName: string | null;
  body: string | null;
}

/** The notifications' dead letters of one order, with the CloudEvent each carried. */
async function notificationDeadLetters(orderId: string): Promise<{ letter: DeadLetter; event: { id: string; type: string } }[]> {
  const { items } = (await (await fetch(suite.url('/_ops/dlq'), { headers: suite.operator })).json()) as { items: DeadLetter[] };
  return items
    .filter((m) => m.url.endsWith('/hooks/notifications') && m.body?.includes(orderId))
    .map((letter) => ({ letter, event: JSON.parse(letter.body ?? '{}') as { id: string; type: string } }));
}

/** Notification rows of an order and kind: the consumer's effect of one delivery. */
async function notificationRows(orderId: string, kind: string): Promise<number> {
  const row = await suite.db('notifications').prepare('SELECT count(*) AS n FROM notifications WHERE order_id = ? AND kind = ?').bind(orderId, kind).first<{ n: number }>();
  return row?.n ?? 0;
}

interface SagaView {
  orderId: string;
  status: string;
  saga: { steps: { name: string; status: string; note?: string }[] };
}

/** The order's saga as `/_ops/sagas?status=` lists it, or undefined while it has another status. */
async function sagaWithStatus(orderId: string, status: string): Promise<SagaView | undefined> {
  const { items } = (await (await fetch(suite.url(`/_ops/sagas?status=${status}&limit=50`), { headers: suite.operator })).json()) as { items: SagaView[] };
  return items.find((item) => item.orderId === orderId);
}

afterAll(async () => {
  await browser?.close();
  await suite?.dispose();
});

describe('the ops dashboard in chromium', () => {
  // Its own limit: the deadlines below add up to well over the project's 60 s (most are met in a poll or two).
  it('turns chaos on for the catalog, shows its breaker open, turns chaos off, shows it closed again, shows a saga, live numbers, and moves canary weights', { timeout: 240_000 }, async () => {
    await signIn(page);
    // Live data in every panel that has some: the breakers, the chaos switches, a chart.
    await page.waitForSelector(breakerCard('closed'), { timeout: 10_000 });
    const chaosOn = page.getByRole('button', { name: 'Turn chaos on for catalog', exact: true });
    await chaosOn.waitFor({ timeout: 10_000 });
    // The token travels as a header, never in the address.
    expect(page.url()).not.toContain(ADMIN_TOKEN);
    await expectNoFailedPanel();

    await chaosOn.click();
    await page.waitForSelector('tr[data-service="catalog"] td.now[data-chaos="on"]', { timeout: 10_000 });
    await trafficUntilPageShows(breakerCard('open'), 20_000);
    const opened = await page.locator(breakerCard('open')).innerText();
    expect(opened).toContain('closed->open');
    await expectNoFailedPanel();

    await page.getByRole('button', { name: 'Turn chaos off for catalog', exact: true }).click();
    await page.waitForSelector('tr[data-service="catalog"] td.now[data-chaos="off"]', { timeout: 10_000 });
    // Once the open period ends, the next request is the half-open probe; it succeeds and closes the breaker.
    await trafficUntilPageShows(breakerCard('closed'), 20_000);
    const card = page.locator(breakerCard('closed'));
    expect(await card.innerText()).toContain('half-open->closed');
    // The history strip remembers the open spell.
    expect(await card.locator('.strip span[data-state="open"]').count()).toBeGreaterThan(0);
    await expectNoFailedPanel();
    // uPlot drew the traffic charts, and the catalog's row has a rate and a median from a window
    // between two reads of /_ops/metrics (never negative, whatever order the reads came in).
    await page.waitForSelector('#rate-chart canvas', { timeout: 10_000 });
    const catalog = await catalogRowNumbers(20_000);
    expect(catalog.rate).toBeGreaterThanOrEqual(0);
    expect(catalog.p50).toBeGreaterThanOrEqual(0);
    // The ratio panel has the catalog's rate-limit decisions; the DLQ panel read the local QStash.
    await page.waitForSelector('#rate-limits tbody tr:has-text("/api/catalog/*")', { timeout: 10_000 });
    await page.waitForSelector('#dlq tbody tr', { timeout: 10_000 });
    expect(await page.locator('#dlq-error').innerText()).toBe('');
    // The alerts panel lists every configured rule with its state.
    await page.waitForSelector('#alerts tbody tr[data-rule="breaker-open"]', { timeout: 10_000 });
    expect(await page.locator('#alerts tbody tr').count()).toBeGreaterThanOrEqual(6);

    // An order placed through the gateway: its saga shows as a waterfall of its steps, all succeeded.
    const placed = await fetch(suite.url('/api/orders'), {
      method: 'POST',
      headers: { authorization: await suite.bearer('browser-user'), 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
      body: JSON.stringify({ items: [{ productId: PRODUCT.id, quantity: 2 }] }),
    });
    expect(placed.status).toBe(202);
    const { orderId } = (await placed.json()) as { orderId: string };
    const saga = page.locator('#sagas > li[data-status="COMPLETED"]', { hasText: orderId });
    await saga.waitFor({ timeout: 30_000 });
    expect(await saga.locator('.step-name').allInnerTexts()).toEqual(['reserve', 'charge', 'confirm']);
    expect(await saga.locator('.bar[data-status="succeeded"]').count()).toBe(3);
    await expectNoFailedPanel();

    // Canary weights from the page: 10% of callers to v2, as the gateway then reports them.
    const weights = page.locator('form.weights[data-route="catalog"]');
    await weights.getByLabel('catalog v1 percent').fill('90');
    await weights.getByLabel('catalog v2 percent').fill('10');
    const saved = page.waitForResponse((r) => r.url().endsWith('/_ops/routes/catalog') && r.request().method() === 'PUT', { timeout: 10_000 });
    await weights.getByRole('button', { name: 'Save catalog weights' }).click();
    expect((await saved).status()).toBe(200);
    const routes = (await (await fetch(suite.url('/_ops/routes'), { headers: suite.operator })).json()) as { catalog?: { weights: Record<string, number> } };
    expect(routes.catalog?.weights).toEqual({ v1: 90, v2: 10 });
    await expectNoFailedPanel();

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'ops-dashboard.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('watches an order live from the page (a ticket, a WebSocket, a saga step arriving as it ends), and operators see each other', { timeout: 60_000 }, async () => {
    const watcher = await signedInPage();
    const other = await signedInPage();
    try {
      // Both dashboards are on the socket: each lists at least the two of them.
      for (const dashboard of [watcher, other]) {
        await expect.poll(async () => Number(/^(\d+) watching/.exec(await dashboard.locator('#presence').innerText())?.[1] ?? 0), { timeout: 10_000, interval: 200 }).toBeGreaterThanOrEqual(2);
      }
      // The catalog answers 400 ms late (once every isolate has seen it), so the socket is open before the first step ends.
      await chaos('catalog', { failureRate: 0, latencyMs: 400 });
      const deadline = Date.now() + 10_000;
      for (let i = 0; ; i++) {
        const started = Date.now();
        await catalogRequest(1_000 + i);
        if (Date.now() - started >= 400) break;
        if (Date.now() > deadline) throw new Error('the catalog never got slow');
      }
      const bearer = await suite.bearer('browser-live-user');
      const messages = await watcher.evaluate(
        async ({ bearer, productId }) => {
          const headers = { authorization: bearer, 'content-type': 'application/json' };
          const placed = await fetch('/api/orders', { method: 'POST', headers: { ...headers, 'idempotency-key': crypto.randomUUID() }, body: JSON.stringify({ items: [{ productId, quantity: 1 }] }) });
          const { orderId } = (await placed.json()) as { orderId: string };
          const { ticket } = (await (await fetch(`/api/orders/${orderId}/live/ticket`, { method: 'POST', headers })).json()) as { ticket: string };
          return new Promise<Record<string, unknown>[]>((resolve, reject) => {
            const got: Record<string, unknown>[] = [];
            // The page's own origin (this runs in the browser; the test's types are workerd's).
            const { host } = (globalThis as unknown as { location: { host: string } }).location;
            const socket = new WebSocket(`ws://${host}/api/orders/${orderId}/live?ticket=${ticket}`);
            const timer = setTimeout(() => reject(new Error(`no close within 20 s: ${JSON.stringify(got)}`)), 20_000);
            socket.addEventListener('message', (event) => got.push(JSON.parse(String(event.data)) as Record<string, unknown>));
            socket.addEventListener('close', () => {
              clearTimeout(timer);
              resolve(got);
            });
          });
        },
        { bearer, productId: PRODUCT.id },
      );
      expect(messages[0]).toMatchObject({ type: 'state', status: 'PENDING' });
      expect(messages.filter((m) => m.type === 'step').map((m) => m.name)).toContain('confirm');
      expect(messages.at(-1)).toEqual({ type: 'status', status: 'COMPLETED' });
    } finally {
      await chaos('catalog', null);
      await other.close();
      await watcher.close();
    }
    expect(pageErrors).toEqual([]);
  });

  it('where chaos is not allowed (GET /_ops/chaos answers 403), says so in the chaos panel once, fails no panel, and stops asking', async () => {
    // The gateway as deployed with ALLOW_CHAOS=false answers this; here the browser answers it for the suite.
    const refused = await browser.newPage();
    try {
      let chaosReads = 0;
      // Polls counted by the metrics read: the breakers panel comes over the dashboard's socket.
      let breakerReads = 0;
      refused.on('request', (request) => {
        if (request.url().endsWith('/_ops/metrics')) breakerReads++;
      });
      await refused.route('**/_ops/chaos', (route) => {
        chaosReads++;
        return route.fulfill(problemAnswer(403, 'chaos-disabled', 'Forbidden', 'Fault injection is off here: set ALLOW_CHAOS=true to allow it.'));
      });
      await signIn(refused);
      await refused.getByText('set ALLOW_CHAOS=true', { exact: false }).waitFor({ timeout: 10_000 });
      // Three more polls: none of them asks for the chaos settings again, and none reports a failure.
      const after = breakerReads;
      await expect.poll(() => breakerReads, { timeout: 15_000, interval: 250 }).toBeGreaterThanOrEqual(after + 3);
      expect(chaosReads).toBe(1);
      expect(await refused.locator('#status').innerText()).not.toContain('failed:');
      expect(await refused.locator('#chaos tbody tr').count()).toBe(0);
    } finally {
      await refused.close();
    }
  });

  it("redrives a delivery dead-lettered by chaos from the DLQ panel's buttons (one letter, then a topic), and each reaches the notifications consumer exactly once", { timeout: 120_000 }, async () => {
    const ops = await signedInPage();
    try {
      // Every delivery to the notifications consumer fails (503) until its retries are spent.
      await chaos('notifications', { failureRate: 1, status: 503 });
      const placed = await fetch(suite.url('/api/orders'), {
        method: 'POST',
        headers: { authorization: await suite.bearer('browser-dlq-user'), 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
        body: JSON.stringify({ items: [{ productId: PRODUCT.id, quantity: 1 }] }),
      });
      expect(placed.status).toBe(202);
      const { orderId } = (await placed.json()) as { orderId: string };
      // The order completes whatever the notifications do; its order.completed and payment.charged
      // deliveries to notifications end in the DLQ, and nothing is left in flight.
      await expect
        .poll(async () => (await notificationDeadLetters(orderId)).map((d) => d.event.type).sort(), { timeout: 30_000, interval: 250 })
        .toEqual(expect.arrayContaining(['order.completed', 'payment.charged']));
      await suite.qstash.waitForIdle({ timeoutMs: 20_000 });
      await chaos('notifications', null);
      expect(await notificationRows(orderId, 'order.completed')).toBe(0);
      expect(await notificationRows(orderId, 'payment.charged')).toBe(0);

      // One letter from its own button.
      const completed = (await notificationDeadLetters(orderId)).find((d) => d.event.type === 'order.completed');
      if (!completed) throw new Error('no order.completed dead letter');
      const redrive = ops.getByRole('button', { name: `Redrive dead letter ${completed.letter.dlqId}`, exact: true });
      await redrive.waitFor({ timeout: 10_000 });
      await redrive.click();
      await ops.locator('#dlq-answer', { hasText: 'Redriven' }).waitFor({ timeout: 10_000 });
      await expect.poll(() => notificationRows(orderId, 'order.completed'), { timeout: 20_000, interval: 250 }).toBe(1);
      await suite.qstash.waitForIdle({ timeoutMs: 20_000 });
      expect(await notificationRows(orderId, 'order.completed')).toBe(1);
      // Gone from QStash's DLQ and from the page; a second redrive of it finds nothing.
      await ops.locator(`#dlq tr[data-dlq-id="${completed.letter.dlqId}"]`).waitFor({ state: 'detached', timeout: 10_000 });
      const again = await fetch(suite.url(`/_ops/dlq/${completed.letter.dlqId}/redrive`), { method: 'POST', headers: suite.operator });
      expect(again.status).toBe(404);

      // The rest of payment-events from the topic's button.
      const charged = (await notificationDeadLetters(orderId)).find((d) => d.event.type === 'payment.charged');
      if (!charged) throw new Error('no payment.charged dead letter');
      expect(charged.letter.topicName).toBe('payment-events');
      await ops.getByRole('button', { name: 'Redrive every dead letter of payment-events', exact: true }).first().click();
      await ops.locator('#dlq-answer', { hasText: 'of payment-events' }).waitFor({ timeout: 10_000 });
      await expect.poll(() => notificationRows(orderId, 'payment.charged'), { timeout: 20_000, interval: 250 }).toBe(1);
      await suite.qstash.waitForIdle({ timeoutMs: 20_000 });
      expect(await notificationRows(orderId, 'payment.charged')).toBe(1);
      expect(await notificationRows(orderId, 'order.completed')).toBe(1);
      expect((await notificationDeadLetters(orderId)).filter((d) => d.letter.topicName === 'payment-events')).toEqual([]);
      expect(await ops.locator('#status').innerText()).not.toContain('failed:');
    } finally {
      await chaos('notifications', null);
      await ops.close();
    }
  });

  it('shows STUCK sagas with their actions: compensate refused (409) is shown as a message, resolve with a note and retry now each end one, recorded in its timeline', { timeout: 120_000 }, async () => {
    const ops = await signedInPage();
    try {
      // Two sagas whose charge fails until their deadline, so they compensate; their refunds are then refused for good (409): STUCK.
      await chaos('payments', { failureRate: 1, status: 503 });
      const orderIds: string[] = [];
      for (const user of ['browser-stuck-a', 'browser-stuck-b']) {
        const placed = await fetch(suite.url('/api/orders'), {
          method: 'POST',
          headers: { authorization: await suite.bearer(user), 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
          body: JSON.stringify({ items: [{ productId: PRODUCT.id, quantity: 1 }] }),
        });
        expect(placed.status).toBe(202);
        orderIds.push(((await placed.json()) as { orderId: string }).orderId);
      }
      const [resolveId = '', retryId = ''] = orderIds;
      for (const orderId of orderIds) await expect.poll(() => sagaWithStatus(orderId, 'COMPENSATING'), { timeout: 20_000, interval: 250 }).toBeDefined();
      await chaos('payments', { failureRate: 1, status: 409 });
      for (const orderId of orderIds) {
        await ops.locator(`#stuck > li[data-order-id="${orderId}"] .state[data-state="stuck"]`).waitFor({ timeout: 20_000 });
      }

      // Compensate is not safe here (the forward steps are done; the refund is what was refused): the 409 is shown, nothing changes.
      await ops.getByRole('button', { name: `Compensate ${resolveId}`, exact: true }).click();
      await ops.locator('#stuck-answer', { hasText: `${resolveId}: compensate refused (409)` }).waitFor({ timeout: 10_000 });
      expect(await sagaWithStatus(resolveId, 'STUCK')).toBeDefined();

      // Resolve by hand, with a note.
      await ops.getByLabel(`Note for ${resolveId}`).fill('refunded by hand in the processor');
      await ops.getByRole('button', { name: `Resolve ${resolveId}`, exact: true }).click();
      await ops.locator('#stuck-answer', { hasText: `${resolveId}: resolve: done` }).waitFor({ timeout: 10_000 });
      const resolved = await sagaWithStatus(resolveId, 'CANCELLED');
      expect(resolved?.saga.steps.find((step) => step.name === 'operator:resolve')).toMatchObject({ status: 'resolved', note: 'refunded by hand in the processor' });

      // Payments accept refunds again: retry now runs the refund and the saga ends CANCELLED.
      await chaos('payments', null);
      await ops.getByRole('button', { name: `Retry now ${retryId}`, exact: true }).click();
      await ops.locator('#stuck-answer', { hasText: `${retryId}: retry: done` }).waitFor({ timeout: 10_000 });
      await expect.poll(async () => (await sagaWithStatus(retryId, 'CANCELLED'))?.saga.steps.map((step) => `${step.name}:${step.status}`), { timeout: 20_000, interval: 250 })
        .toEqual(expect.arrayContaining(['refund:succeeded', 'operator:retry:retried']));
      // Neither is listed as stuck any more.
      for (const orderId of orderIds) await ops.locator(`#stuck > li[data-order-id="${orderId}"]`).waitFor({ state: 'detached', timeout: 10_000 });
      expect(await ops.locator('#status').innerText()).not.toContain('failed:');
    } finally {
      await chaos('payments', null);
      await ops.close();
    }
  });

  it("lists a request's trace in the Traces panel (filtered by route and status), opens its waterfall, and opens another by its pasted traceresponse", { timeout: 90_000 }, async () => {
    const ops = await signedInPage();
    try {
      // A 404 from the catalog: few other traces share its route and status.
      const missing = await fetch(suite.url('/api/catalog/products/browser-traced-missing'));
      expect(missing.status).toBe(404);
      const traceId = missing.headers.get('traceresponse')?.split('-')[1] ?? '';
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      await ops.getByLabel('Route', { exact: true }).fill('/api/catalog');
      await ops.getByLabel('Status', { exact: true }).fill('404');
      // Listed once the catalog's spans reached the receiver too (each worker exports after its answer).
      const row = ops.locator(`#traces tr[data-trace-id="${traceId}"]`);
      await expect
        .poll(
          async () => {
            await ops.getByRole('button', { name: 'Filter traces' }).click();
            return (await row.count()) > 0 ? row.locator('td').nth(5).innerText() : '';
          },
          { timeout: 20_000, interval: 500 },
        )
        .toContain('catalog');
      const cells = await row.locator('td').allInnerTexts();
      expect(cells.slice(1, 3)).toEqual(['GET /api/catalog/*', '404']);
      expect(cells[3]).toMatch(/^\d+\.\d ms$/);

      await ops.getByRole('button', { name: `Open trace ${traceId}`, exact: true }).click();
      const spans = ops.locator(`#trace-view .trace[data-trace-id="${traceId}"] ol.spans > li`);
      await spans.first().waitFor({ timeout: 10_000 });
      expect(await spans.count()).toBe(Number(cells[4]));
      // The gateway's request at the top, its attempt under it, the catalog's handler under that, and its D1 read below.
      const first = spans.first();
      expect([await first.getAttribute('data-service'), await first.getAttribute('data-depth'), await first.locator('.span-name').innerText()]).toEqual(['gateway', '0', 'GET /api/catalog/*']);
      const read = spans.filter({ hasText: 'D1 SELECT' });
      expect(await read.getAttribute('data-service')).toBe('catalog');
      expect(Number(await read.getAttribute('data-depth'))).toBeGreaterThanOrEqual(3);
      // One colour per service: the gateway's bars share one, the catalog's another.
      const colours = await spans.locator('.bar').evaluateAll((bars) => bars.map((bar) => (bar as unknown as { style: { background: string } }).style.background));
      expect(new Set(colours).size).toBe(2);

      // Any response's traceresponse, pasted as it is.
      const other = await fetch(suite.url(`/api/catalog/products/${PRODUCT.id}`));
      expect(other.status).toBe(200);
      const pasted = other.headers.get('traceresponse') ?? '';
      const otherId = pasted.split('-')[1];
      await ops.getByLabel('Trace id').fill(pasted);
      // Opened once its spans have reached the receiver (until then the store answers 404, said in the panel).
      await expect
        .poll(
          async () => {
            await ops.getByRole('button', { name: 'Open trace', exact: true }).click();
            return ops.locator(`#trace-view .trace[data-trace-id="${otherId}"] ol.spans > li[data-service="catalog"]`).count();
          },
          { timeout: 20_000, interval: 500 },
        )
        .toBeGreaterThan(0);
      expect(await ops.locator('#status').innerText()).not.toContain('failed:');
      mkdirSync(ARTIFACTS, { recursive: true });
      await ops.locator('section[aria-labelledby="traces-title"]').screenshot({ path: join(ARTIFACTS, 'ops-traces.png') });
    } finally {
      await ops.close();
    }
    expect(pageErrors).toEqual([]);
  });

  it('without a trace store (GET /_ops/traces answers 503), says in the Traces panel what to set, and fails no panel', async () => {
    // The gateway as deployed (no OTEL_QUERY_URL) answers this; here the browser answers it for the suite.
    const bare = await browser.newPage();
    try {
      await bare.route(
        (url) => url.pathname === '/_ops/traces',
        (route) => route.fulfill(problemAnswer(503, 'no-trace-store', 'Service Unavailable', 'OTEL_QUERY_URL is not set.')),
      );
      await signIn(bare);
      const notice = bare.locator('#traces-notice');
      await notice.getByText('OTEL_QUERY_URL', { exact: false }).waitFor({ timeout: 10_000 });
      expect(await notice.innerText()).toContain('OTEL_EXPORTER_OTLP_ENDPOINT');
      await bare.waitForSelector(breakerCard('closed'), { timeout: 10_000 });
      expect(await bare.locator('#status').innerText()).not.toContain('failed:');
      expect(await bare.locator('#traces tbody tr').count()).toBe(0);
    } finally {
      await bare.close();
    }
  });

  it("lists each outbox's parked rows with a retry button that posts that row's id to its service's retry", async () => {
    // A row parks only after OUTBOX_MAX_ATTEMPTS failed publishes; the browser answers for the suite here, as the 403 test does.
    const fresh = await browser.newPage();
    try {
      const retries: { url: string; body: unknown }[] = [];
      const summary = { pending: 0, sent: 3, oldestPendingAt: null, nextAttemptAt: null };
      const parked = { id: 'evt_parked_1', type: 'order.completed', destination: '{"topic":"order-events"}', attempts: 50, lastError: 'QStash answered 400', createdAt: new Date().toISOString(), deadAt: new Date().toISOString() };
      await fresh.route('**/_ops/outbox', (route) =>
        route.fulfill({ json: { orders: { ...summary, dead: retries.length ? 0 : 1, deadRows: retries.length ? [] : [parked] }, payments: { ...summary, dead: 0, deadRows: [] }, notifications: { error: 'The notifications service answered 503.' }, ledger: { ...summary, dead: 0, deadRows: [] } } }),
      );
      await fresh.route('**/_ops/outbox/*/retry', (route) => {
        retries.push({ url: route.request().url(), body: route.request().postDataJSON() });
        return route.fulfill({ json: { retried: 1 } });
      });
      await signIn(fresh);
      await fresh.getByRole('button', { name: 'Retry outbox row evt_parked_1', exact: true }).click();
      await fresh.locator('#outbox-answer', { hasText: 'orders: 1 row sent again' }).waitFor({ timeout: 10_000 });
      expect(retries).toEqual([{ url: suite.url('/_ops/outbox/orders/retry'), body: { id: 'evt_parked_1' } }]);
      // Read again after the retry: the row is gone; a service that did not answer shows its error in its row.
      await fresh.locator('#outbox tr[data-outbox-id="evt_parked_1"]').waitFor({ state: 'detached', timeout: 10_000 });
      expect(await fresh.locator('#outbox').innerText()).toContain('The notifications service answered 503.');
      expect(await fresh.locator('#status').innerText()).not.toContain('failed:');
    } finally {
      await fresh.close();
    }
  });
});
