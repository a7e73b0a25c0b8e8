// One measured run of the order saga, end to end: the whole suite in one Miniflare with the local
// QStash (scripts/local-suite.mjs), N orders POSTed through the gateway by a fixed pool of
// clients, then each order's terminal time read from the orders D1 (the saga's own timeline),
// never by polling orders one by one (that would load the system being measured).
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { seededRandom } from '../../scripts/qstash-server.mjs';
import { disposeSuite, startLiveSuite } from '../lib/live-suites.mjs';
import { pollUntil } from '../../scripts/poll-until.mjs';
import { latencySummary, median } from '../lib/stats.mjs';

/** Every product has far more stock than a run asks for: no order is refused for stock. */
export const PRODUCTS = [
  { id: 'prod_bench_tent', priceCents: 19_900, stock: 1_000_000 },
  { id: 'prod_bench_stove', priceCents: 4_500, stock: 1_000_000 },
  { id: 'prod_bench_lamp', priceCents: 2_500, stock: 1_000_000 },
  { id: 'prod_bench_mug', priceCents: 900, stock: 1_000_000 },
];

/** The saga settings of the system test (test/system/order-chaos.system.test.ts), deadline at its default. */
export const SAGA_VARS = {
  SAGA_DEADLINE_MS: '60000',
  SAGA_RETRY_BASE_MS: '50',
  SAGA_RETRY_MAX_MS: '1000',
  SAGA_CALL_TIMEOUT_MS: '2000',
  CHAOS_REFRESH_MS: '1000',
};

export const CHAOS = { payments: { failureRate: 0.3, status: 503, latencyMs: 20 }, duplicateRate: 0.2 };

const TERMINAL = "('COMPLETED', 'CANCELLED')";
const POLL_MS = 250;


/** The same orders in every run: 1 or 2 lines of 1 to 3 units, one user per `perUser` orders. */
export function makeOrders({ orders, users, seed }) {
  const random = seededRandom(seed);
  const pick = (items) => items[Math.floor(random() * items.length)];
  return Array.from({ length: orders }, (_, i) => {
    const lines = random() < 0.3 ? 2 : 1;
    const items = new Map();
    for (let l = 0; l < lines; l++) {
      const product = pick(PRODUCTS).id;
      items.set(product, (items.get(product) ?? 0) + 1 + Math.floor(random() * 3));
    }
    return { index: i, user: `usr_bench_${i % users}`, items: [...items].map(([productId, quantity]) => ({ productId, quantity })) };
  });
}

// CPU time of workerd (every process Miniflare started) and of this Node process, from /proc:
// whether the 2 cores were busy or the run was waiting. Linux only; null elsewhere.
const TICKS_PER_S = 100; // USER_HZ, 100 on every Linux this runs on
function childPids(pid) {
  try {
    return readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          return readFileSync(`/proc/${d}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1] === String(pid);
        } catch {
          return false;
        }
      })
      .map(Number);
  } catch {
    return [];
  }
}
function descendants(pid) {
  const out = [];
  for (const child of childPids(pid)) out.push(child, ...descendants(child));
  return out;
}
function cpuSecondsOf(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      // gone
    }
  }
  return ticks / TICKS_PER_S;
}
/** The whole machine's busy CPU seconds (every process, every core) and its I/O wait, from /proc/stat. */
function machineSeconds() {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    const [user, nice, system, , iowait, irq, softirq] = fields;
    return { busy: (user + nice + system + irq + softirq) / TICKS_PER_S, iowait: iowait / TICKS_PER_S };
  } catch {
    return null;
  }
}
function cpuSnapshot(workerdPids) {
  const node = process.cpuUsage();
  return {
    workerd: workerdPids.length ? cpuSecondsOf(workerdPids) : null,
    // workerd's main thread (its thread id is its process id): where every worker's JavaScript
    // runs, and in Miniflare every Durable Object's and every D1 database's SQLite statements.
    workerdMain: workerdPids.length ? cpuSecondsOf(workerdPids.map((pid) => `${pid}/task/${pid}`)) : null,
    node: (node.user + node.system) / 1e6,
    machine: machineSeconds(),
  };
}

const ms = (iso) => (iso ? Date.parse(iso) : NaN);
/** When a saga ended: the last `finishedAt` of its timeline (the final step's outcome). */
const terminalOf = (steps) => Math.max(...steps.map((s) => ms(s.finishedAt)).filter(Number.isFinite));
const summary = (values) => {
  const sorted = values.filter(Number.isFinite);
  const { p50, p99, count } = latencySummary(sorted);
  return { p50, p99, count, max: sorted.at(-1) ?? NaN };
};

/**
 * Runs one target: starts the suite, seeds the catalog, sets chaos (or not), places `orders`
 * with `concurrency` POSTs in flight, waits (bounded) until every order is terminal, reads the
 * timelines, and disposes the suite whatever happens.
 */
export async function benchOrders({ label, chaos, storageDir, orders: planned, concurrency, drainS, settleS, probes, seed }) {
  const startedAt = performance.now();
  // Miniflare keeps every Durable Object's storage and every D1 as SQLite files under
  // os.tmpdir(), read when it starts: `storageDir` (a tmpfs) moves them off the disk.
  const tmpdir = process.env.TMPDIR;
  if (storageDir) process.env.TMPDIR = storageDir;
  let suite;
  try {
    suite = await startLiveSuite({
      vars: SAGA_VARS,
      workerVars: {
        orders: { SAGA_CRASH_PERCENT: '0' },
        gateway: { METRICS_FLUSH_INTERVAL_MS: '1000', BREAKER_REPORT_INTERVAL_MS: '1000' },
      },
      qstash: { retryDelayScale: 0.01, duplicateRate: chaos ? CHAOS.duplicateRate : 0, seed },
    });
  } finally {
    if (storageDir) {
      if (tmpdir === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmpdir;
    }
  }
  try {
    const startS = (performance.now() - startedAt) / 1000;
    const catalog = suite.db('catalog');
    await catalog.batch(
      PRODUCTS.map((p) =>
        catalog.prepare("INSERT INTO products (id, name, description, price_cents, currency, stock) VALUES (?, ?, '', ?, 'USD', ?)").bind(p.id, p.id, p.priceCents, p.stock),
      ),
    );
    const setChaos = async (service, settings) => {
      const response = await fetch(suite.url(`/_ops/chaos/${service}`), {
        method: 'PUT',
        headers: { ...suite.operator, 'content-type': 'application/json' },
        body: JSON.stringify(settings),
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) throw new Error(`chaos ${service}: ${response.status} ${await response.text()}`);
    };
    if (chaos) await setChaos('payments', CHAOS.payments);

    const bearers = new Map();
    for (const order of planned) if (!bearers.has(order.user)) bearers.set(order.user, await suite.bearer(order.user));

    const ordersDb = suite.db('orders');
    const post = (bearer, key, items) =>
      fetch(suite.url('/api/orders'), {
        method: 'POST',
        headers: { authorization: bearer, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ items }),
        signal: AbortSignal.timeout(30_000),
      });
    const isTerminal = async (id) => (await ordersDb.prepare(`SELECT count(*) AS n FROM orders WHERE id = ? AND status IN ${TERMINAL}`).bind(id).first('n')) === 1;
    const until = (what, check, timeoutMs, everyMs) => pollUntil(`${label}: ${what}`, check, Boolean, { timeoutMs, intervalMs: everyMs });
    const outboxesSent = async (services = ['orders', 'payments', 'notifications']) => {
      for (const service of services) {
        if ((await suite.db(service).prepare('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL').first('n')) !== 0) return false;
      }
      return true;
    };
    const qstashIdle = () => {
      const stats = suite.qstash.stats();
      return stats.pending === 0 && stats.inFlight === 0;
    };
    const eventsSettled = async () => (await outboxesSent()) && qstashIdle();
    // The saga's own events: what the orders and payments relays publish (notifications' outbox
    // fills as order events reach it, so it is only empty at the very end).
    const sagaEventsPublished = () => outboxesSent(['orders', 'payments']);

    // Not measured: a warm-up order (the first request of each worker compiles its bundle), then
    // `probes` orders one at a time, each waited for, for the saga's unloaded times; then every
    // event they made is delivered, so the measured window starts quiet.
    const probeBearer = await suite.bearer('usr_bench_probe');
    const probeIds = [];
    const probeTimes = [];
    for (let i = 0; i <= probes; i++) {
      const sentAt = Date.now();
      const t0 = performance.now();
      const response = await post(probeBearer, `${label}-probe-${i}`, [{ productId: PRODUCTS[i % PRODUCTS.length].id, quantity: 1 }]);
      if (response.status !== 202) throw new Error(`${label}: probe order ${i}: ${response.status} ${await response.text()}`);
      const postMs = performance.now() - t0;
      const { orderId } = await response.json();
      await until(`probe order ${i} terminal`, () => isTerminal(orderId), 30_000, 20);
      probeIds.push(orderId);
      if (i > 0) probeTimes.push({ orderId, sentAt, postMs }); // the warm-up (i = 0) is not counted
    }
    await until('warm-up events delivered', eventsSettled, 60_000, 100);
    const probeRows = new Map(
      (await ordersDb.prepare(`SELECT id, saga FROM orders WHERE id IN (${probeIds.map(() => '?').join(', ')})`).bind(...probeIds).all()).results.map((r) => [r.id, r]),
    );
    const unloaded = {
      orders: probeTimes.length,
      post: summary(probeTimes.map((p) => p.postMs)),
      completion: summary(probeTimes.map((p) => terminalOf(JSON.parse(probeRows.get(p.orderId).saga)) - p.sentAt)),
    };

    const workerdPids = descendants(process.pid);
    const qstashBefore = suite.qstash.stats();
    const cpuBefore = cpuSnapshot(workerdPids);

    // The clients: `concurrency` loops, each POSTing the next order as soon as its last answered.
    const placed = []; // { index, orderId, sentAt (epoch ms), postMs, attempts, statuses }
    const nonAccepted = {};
    let next = 0;
    const firstPostAt = Date.now();
    const client = async () => {
      while (next < planned.length) {
        const order = planned[next++];
        const key = `${label}-${order.index}`;
        const sentAt = Date.now();
        let postMs = NaN;
        let orderId;
        let attempts = 0;
        // A refused POST (it should not happen: no 429, no quote failure) is sent again with the
        // same key after 200 ms, as a client would; its time to completion still starts at sentAt.
        while (!orderId && attempts < 5) {
          if (attempts++) await new Promise((resolve) => setTimeout(resolve, 200));
          const t0 = performance.now();
          try {
            const response = await post(bearers.get(order.user), key, order.items);
            const body = await response.json().catch(() => null);
            if (response.status === 202) {
              postMs = performance.now() - t0;
              orderId = body.orderId;
            } else nonAccepted[response.status] = (nonAccepted[response.status] ?? 0) + 1;
          } catch (error) {
            nonAccepted[error?.name ?? 'error'] = (nonAccepted[error?.name ?? 'error'] ?? 0) + 1;
          }
        }
        placed.push({ index: order.index, orderId, sentAt, acceptedAt: Date.now(), postMs, attempts });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, client));
    const lastAcceptedAt = Date.now();
    const accepted = placed.filter((p) => p.orderId);
    const ids = new Set(accepted.map((p) => p.orderId));

    // Bounded wait until every accepted order is terminal: one COUNT per POLL_MS.
    const probeList = probeIds.map(() => '?').join(', ');
    const countTerminal = () => ordersDb.prepare(`SELECT count(*) AS n FROM orders WHERE id NOT IN (${probeList}) AND status IN ${TERMINAL}`).bind(...probeIds).first('n');
    const drainDeadline = Date.now() + drainS * 1000;
    let terminalCount = await countTerminal();
    while (terminalCount < accepted.length && Date.now() < drainDeadline) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      terminalCount = await countTerminal();
    }
    const cpuAfter = cpuSnapshot(workerdPids);
    const qstashAfter = suite.qstash.stats();
    const windowS = (Date.now() - firstPostAt) / 1000;

    const rows = (await ordersDb.prepare(`SELECT id, status, saga, reason, created_at, updated_at FROM orders WHERE id NOT IN (${probeList})`).bind(...probeIds).all()).results;
    const byId = new Map(rows.map((r) => [r.id, r]));
    const statuses = {};
    const perOrder = [];
    const stepTimes = {}; // step → durations (startedAt → finishedAt, every attempt and the waits between)
    const stepAttempts = {};
    const phases = { toPlaced: [], placedToFirstStep: [], betweenSteps: [] };
    let overlapEvents = [];
    for (const p of accepted) {
      const row = byId.get(p.orderId);
      if (!row) continue;
      statuses[row.status] = (statuses[row.status] ?? 0) + 1;
      if (row.status !== 'COMPLETED' && row.status !== 'CANCELLED') continue;
      const steps = JSON.parse(row.saga);
      const terminalAt = terminalOf(steps);
      perOrder.push({ ...p, status: row.status, terminalAt, updatedAt: ms(row.updated_at), completionMs: terminalAt - p.sentAt });
      overlapEvents.push([p.sentAt, 1], [terminalAt, -1]);
      phases.toPlaced.push(ms(row.created_at) - p.sentAt);
      const ran = steps.filter((s) => s.startedAt);
      if (ran[0]) phases.placedToFirstStep.push(ms(ran[0].startedAt) - ms(row.created_at));
      for (let i = 1; i < ran.length; i++) phases.betweenSteps.push(ms(ran[i].startedAt) - ms(ran[i - 1].finishedAt));
      for (const s of ran) {
        (stepTimes[s.name] ??= []).push(ms(s.finishedAt) - ms(s.startedAt));
        (stepAttempts[s.name] ??= []).push(s.attempts);
      }
    }
    // The most orders between their POST and their terminal state at one moment.
    overlapEvents = overlapEvents.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let open = 0;
    let peakOpen = 0;
    for (const [, delta] of overlapEvents) peakOpen = Math.max(peakOpen, (open += delta));

    const lastTerminalAt = Math.max(...perOrder.map((o) => o.terminalAt));
    // The same rate over the first 99 % of the orders to end: N ÷ (last terminal − first POST)
    // hangs on the unluckiest order (under chaos, its chain of failed charges).
    const terminalTimes = perOrder.map((o) => o.terminalAt).sort((x, y) => x - y);
    const n99 = Math.ceil(0.99 * accepted.length);
    const ordersPerS99 = terminalTimes.length >= n99 ? n99 / ((terminalTimes[n99 - 1] - firstPostAt) / 1000) : NaN;
    const spanS = (lastTerminalAt - firstPostAt) / 1000;
    const postSpanS = (lastAcceptedAt - firstPostAt) / 1000;
    const completion = summary(perOrder.map((o) => o.completionMs));
    const postLatency = summary(accepted.map((p) => p.postMs));
    const cpu = {
      windowS,
      workerd: cpuAfter.workerd === null ? null : cpuAfter.workerd - cpuBefore.workerd,
      workerdMain: cpuAfter.workerdMain === null ? null : cpuAfter.workerdMain - cpuBefore.workerdMain,
      node: cpuAfter.node - cpuBefore.node,
      machine: cpuAfter.machine === null ? null : cpuAfter.machine.busy - cpuBefore.machine.busy,
      iowait: cpuAfter.machine === null ? null : cpuAfter.machine.iowait - cpuBefore.machine.iowait,
      cores: os.cpus().length,
      workerdProcesses: workerdPids.length,
    };
    const qstashKeys = ['published', 'delivered', 'duplicated', 'retried', 'failedAttempts', 'deadLettered'];
    const qstash = Object.fromEntries(qstashKeys.map((k) => [k, qstashAfter[k] - qstashBefore[k]]));

    // Not part of the orders' times: how long after the last terminal order the events the run
    // made (outbox → QStash → consumers) were all delivered. Bounded; null if not reached.
    let eventsSettledS = null;
    let outboxesSentS = null;
    let queuesThen = null; // the mail queues when the saga's events were all published
    if (perOrder.length === accepted.length) {
      const deadline = Date.now() + settleS * 1000;
      for (;;) {
        if (outboxesSentS === null && (await sagaEventsPublished())) {
          outboxesSentS = (Date.now() - lastTerminalAt) / 1000;
          queuesThen = Object.fromEntries(Object.entries(suite.qstash.stats().queues).map(([name, q]) => [name, q.lag + q.inFlight]));
        }
        if (outboxesSentS !== null && (await eventsSettled())) {
          eventsSettledS = (Date.now() - lastTerminalAt) / 1000;
          break;
        }
        if (Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    }
    const qstashFinal = suite.qstash.stats();
    const qstashTotal = Object.fromEntries(qstashKeys.map((k) => [k, qstashFinal[k] - qstashBefore[k]]));
    const outboxRows = {};
    for (const service of ['orders', 'payments', 'notifications']) {
      outboxRows[service] = await suite.db(service).prepare('SELECT count(*) AS n FROM outbox').first('n');
    }
    return {
      label,
      chaos: Boolean(chaos),
      startS,
      orders: planned.length,
      accepted: accepted.length,
      distinctOrderIds: ids.size,
      nonAccepted,
      retriedPosts: accepted.filter((p) => p.attempts > 1).length,
      statuses,
      terminal: perOrder.length,
      unfinished: accepted.length - perOrder.length,
      ordersPerS: perOrder.length / spanS,
      ordersPerS99,
      n99,
      spanS,
      postSpanS,
      postsPerS: accepted.length / postSpanS,
      drainAfterLastPostS: (lastTerminalAt - lastAcceptedAt) / 1000,
      completion,
      post: postLatency,
      peakOpen,
      mirrorLagMs: median(perOrder.map((o) => o.updatedAt - o.terminalAt)),
      phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, summary(v)])),
      steps: Object.fromEntries(
        Object.entries(stepTimes).map(([name, v]) => {
          const attempts = stepAttempts[name];
          return [name, { ...summary(v), orders: attempts.length, attempts: attempts.reduce((a, b) => a + b, 0), retried: attempts.filter((n) => n > 1).length }];
        }),
      ),
      unloaded,
      cpu,
      qstash,
      qstashTotal,
      outboxesSentS,
      queuesThen,
      eventsSettledS,
      outboxRows,
      logLines: suite.logs.lines,
      // Per order, for digging (bench/.out only): [sent, POST ms, terminal], times in ms from the first POST.
      perOrder: perOrder.map((o) => [o.sentAt - firstPostAt, Math.round(o.postMs), o.terminalAt - firstPostAt]),
    };
  } finally {
    await disposeSuite(suite);
  }
}
