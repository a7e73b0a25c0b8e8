// Turns the order runs into the `## Orders` section of bench/RESULTS.md: machine note, method,
// numbers of every run, the chaos ratios, where an order's time goes, and how to read it. Only
// that section is replaced.
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../scripts/workers.mjs';
import { fixed, median } from '../lib/stats.mjs';
import { CHAOS, PRODUCTS, SAGA_VARS } from './orders.mjs';
export { writeSection } from '../lib/results-file.mjs';

const markdownTable = (records) => {
  const headers = Object.keys(records[0]);
  return [`| ${headers.join(' | ')} |`, `|${headers.map(() => ' --- |').join('')}`, ...records.map((r) => `| ${headers.map((h) => r[h]).join(' | ')} |`)].join('\n');
};
const counts = (record) =>
  Object.entries(record)
    .map(([value, n]) => `${n} ${value}`)
    .join(', ') || 'none';
const int = (n) => (Number.isFinite(n) ? String(Math.round(n)) : 'n/a');
const list = (values, digits) => values.map((v) => fixed(v, digits)).join(' / ');

const NAMES = {
  a: '(a) no chaos',
  b: '(b) chaos',
  c: '(c) no chaos, storage in memory',
};

function machineNote(loadAtStart) {
  const require = createRequire(join(ROOT, 'package.json'));
  const version = (name) => require(`${name}/package.json`).version;
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, Node ${process.version}, workerd ${version('workerd')}, miniflare ${version('miniflare')}; 1-min load average ${loadAtStart.toFixed(2)} before the run`;
}

/** CPU seconds in the measured window: workerd, this Node process (clients and the local QStash), everything else. */
function cpuCell(r) {
  const { workerd, node, machine, windowS, cores } = r.cpu;
  if (workerd === null || machine === null) return `Node ${fixed(node, 1)} of ${fixed(windowS * cores, 1)}`;
  const others = Math.max(0, machine - workerd - node);
  return `${fixed(workerd, 1)} / ${fixed(node, 1)} / ${fixed(others, 1)} of ${fixed(windowS * cores, 1)}`;
}
/** How busy workerd's main thread was in the window, in % (100 = a whole core all the time). */
const mainBusy = (r) => (r.cpu.workerdMain === null || r.cpu.workerdMain === undefined ? NaN : (r.cpu.workerdMain / r.cpu.windowS) * 100);
/** The machine's I/O wait in the window, in core-% (one core waiting the whole time = 100). */
const ioWait = (r) => (r.cpu.iowait === null || r.cpu.iowait === undefined ? NaN : (r.cpu.iowait / r.cpu.windowS) * 100);

const perRun = (runs, key, pick) => runs.map((run) => run.results[key]).filter(Boolean).map(pick);

export function ordersSection({ date, code, loadAtStart, settings, tookS, runs, memoryDir }) {
  const keys = ['a', 'b', 'c'].filter((k) => runs.some((run) => run.results[k]));
  const rows = [];
  for (const key of keys) {
    for (const run of runs) {
      const r = run.results[key];
      if (!r) continue;
      rows.push({
        target: NAMES[key],
        run: run.run,
        'terminal / placed': `${r.terminal} / ${r.accepted} (${counts(r.statuses)})`,
        'orders/s to terminal': fixed(r.ordersPerS, 1),
        'the same, first 99 %': fixed(r.ordersPerS99, 1),
        'completion p50 ms': int(r.completion.p50),
        'completion p99 ms': int(r.completion.p99),
        'POST p50 ms': int(r.post.p50),
        'POST p99 ms': int(r.post.p99),
        'POSTs/s': fixed(r.postsPerS, 1),
        'last POST → last terminal s': fixed(r.drainAfterLastPostS, 2),
        'peak orders open': r.peakOpen,
        'CPU s: workerd / Node / others of window × cores': cpuCell(r),
        'workerd main thread busy': `${fixed(mainBusy(r), 0)} %`,
        'I/O wait': `${fixed(ioWait(r), 0)} %`,
      });
    }
  }

  const pairs = (x, y, pick) => runs.filter((run) => run.results[x] && run.results[y]).map((run) => pick(run.results[x]) / pick(run.results[y]));
  const ratioLine = (x, y) => {
    const tput = pairs(x, y, (r) => r.ordersPerS);
    const p50 = pairs(x, y, (r) => r.completion.p50);
    const p99 = pairs(x, y, (r) => r.completion.p99);
    const post50 = pairs(x, y, (r) => r.post.p50);
    return `orders/s **${list(tput, 2)}**, completion p50 **${list(p50, 2)}**, p99 **${list(p99, 2)}**, POST p50 ${list(post50, 2)} (run 1 / run 2${runs.length > 2 ? ' / …' : ''}; each pair from the same run)`;
  };

  const a = (pick) => perRun(runs, 'a', pick);
  const b = (pick) => perRun(runs, 'b', pick);
  const c = (pick) => perRun(runs, 'c', pick);
  const med = (values) => median(values);

  // Where an order's time goes: the saga's own timeline, p50 of each phase, per target and run.
  const phaseRows = [];
  for (const key of keys) {
    for (const run of runs) {
      const r = run.results[key];
      if (!r) continue;
      const step = (name) => (r.steps[name] ? `${int(r.steps[name].p50)} (${int(r.steps[name].p99)})` : '—');
      phaseRows.push({
        target: NAMES[key],
        run: run.run,
        'POST sent → order placed': `${int(r.phases.toPlaced.p50)} (${int(r.phases.toPlaced.p99)})`,
        'placed → reserve starts': `${int(r.phases.placedToFirstStep.p50)} (${int(r.phases.placedToFirstStep.p99)})`,
        reserve: step('reserve'),
        charge: step('charge'),
        confirm: step('confirm'),
        'between steps': `${int(r.phases.betweenSteps.p50)} (${int(r.phases.betweenSteps.p99)})`,
        'charge attempts / orders (retried)': r.steps.charge ? `${r.steps.charge.attempts} / ${r.steps.charge.orders} (${r.steps.charge.retried})` : '—',
        'unloaded: POST p50, completion p50': `${int(r.unloaded.post.p50)}, ${int(r.unloaded.completion.p50)}`,
      });
    }
  }

  const eventRows = [];
  for (const key of keys) {
    for (const run of runs) {
      const r = run.results[key];
      if (!r) continue;
      eventRows.push({
        target: NAMES[key],
        run: run.run,
        'outbox rows (orders / payments / notifications)': `${r.outboxRows.orders} / ${r.outboxRows.payments} / ${r.outboxRows.notifications}`,
        'QStash deliveries in the window': r.qstash.delivered,
        'QStash deliveries in all': r.qstashTotal.delivered,
        'duplicates delivered': r.qstashTotal.duplicated,
        'dead-lettered': r.qstashTotal.deadLettered,
        'orders and payments outboxes all published, s after the last terminal order': r.outboxesSentS === null ? `not within ${settings.settleS} s` : fixed(r.outboxesSentS, 1),
        'every event delivered, s after the last terminal order': r.eventsSettledS === null ? `not within ${settings.settleS} s` : fixed(r.eventsSettledS, 1),
      });
    }
  }

  const postBound = a((r) => r.postsPerS / r.ordersPerS);
  const drainA = a((r) => r.drainAfterLastPostS);
  const drainB = b((r) => r.drainAfterLastPostS);
  const sagaA = a((r) => r.phases.placedToFirstStep.p50 + ['reserve', 'charge', 'confirm'].reduce((sum, s) => sum + (r.steps[s]?.p50 ?? 0), 0) + 2 * r.phases.betweenSteps.p50);
  const chargeB = b((r) => r.steps.charge.attempts / r.steps.charge.orders);
  const deadLettered = runs.flatMap((run) => Object.values(run.results)).reduce((sum, r) => sum + r.qstashTotal.deadLettered, 0);
  const chaosAllCompleted = b((r) => r.statuses.COMPLETED === r.accepted && r.unfinished === 0).every(Boolean);
  const mainMsPerOrder = (r) => (r.cpu.workerdMain / r.terminal) * 1000;
  const machineBusy = (r) => (r.cpu.machine === null ? NaN : (r.cpu.machine / (r.cpu.windowS * r.cpu.cores)) * 100);
  const windowDeliveries = [...a((r) => r.qstash.delivered / r.qstashTotal.delivered), ...c((r) => r.qstash.delivered / r.qstashTotal.delivered)];
  const published = [...a((r) => r.outboxesSentS), ...c((r) => r.outboxesSentS)].filter((x) => x !== null);
  const settled = [...a((r) => r.eventsSettledS), ...c((r) => r.eventsSettledS)].filter((x) => x !== null);
  const othersShare = (r) => (r.cpu.machine === null ? NaN : (Math.max(0, r.cpu.machine - r.cpu.workerd - r.cpu.node) / (r.cpu.windowS * r.cpu.cores)) * 100);
  const othersLine = keys.map((k) => `${NAMES[k].split(' ')[0]} ${list(perRun(runs, k, othersShare), 0)}`).join(', ');
  const onCloudflare = `On Cloudflare neither limit exists as such (Durable Objects and D1 databases are spread
  over machines, durability is replication rather than a local disk sync, and requests spread over
  many isolates); what carries over is the per-order work, below.`;

  const memoryPart = keys.includes('c')
    ? `
(c) ÷ (a), storage in memory over storage on disk: ${ratioLine('c', 'a')}. Same code, same load;
only Miniflare's temporary directory, which holds every Durable Object's and every D1 database's
SQLite files, is on a tmpfs (${memoryDir}) instead of the disk.
`
    : '';

  return `## Orders

- Date: ${date}; code: ${code}
- Machine: ${machineNote(loadAtStart)}. Other processes' CPU in the measured windows, in % of
  the machine, run 1 / run 2: ${othersLine} (the "others" column below; other work on the machine
  slows these runs). "workerd main thread busy": its CPU time in the window ÷ the window (from
  /proc, like every CPU figure here); "I/O wait": the machine's, in % of one core.
- Method: \`npm run bench:orders\` (bench/orders/run.mjs, orders.mjs, report.mjs). The whole suite
  in one Miniflare (workerd directly, no \`wrangler dev\` proxy) with the local QStash in the same
  Node process, as scripts/local-suite.mjs starts it for the system test: every worker its
  \`wrangler deploy --dry-run\` bundle with its own bindings, every D1 migrated, LOG_LEVEL=error,
  keys made for the run. Saga settings as in the system test: SAGA_RETRY_BASE_MS ${SAGA_VARS.SAGA_RETRY_BASE_MS},
  SAGA_RETRY_MAX_MS ${SAGA_VARS.SAGA_RETRY_MAX_MS}, SAGA_CALL_TIMEOUT_MS ${SAGA_VARS.SAGA_CALL_TIMEOUT_MS}, SAGA_DEADLINE_MS ${SAGA_VARS.SAGA_DEADLINE_MS} (the default),
  SAGA_CRASH_PERCENT 0; QStash \`retryDelayScale\` 0.01. The catalog holds ${PRODUCTS.length} products priced in USD with
  ${PRODUCTS[0].stock.toLocaleString('en')} units each, so no order runs out of stock; no order names a card, so every charge
  uses the test card that is always approved (no declined card). The same ${settings.orders} orders in every
  run (seeded: 1 or 2 lines of 1 to 3 units), from ${settings.users} users, ${settings.ordersPerUser} each: the orders route's rate
  limit (30 per 10 s per user) stays on, as deployed, and refused nothing. Each target of each run
  gets a fresh suite (empty databases), then, not measured: one warm-up order, ${settings.probes} orders one
  at a time (each waited for: the "unloaded" column below), and every event they made delivered.
  Then ${settings.concurrency} clients (Node \`fetch\`, a connection per request: scripts/fresh-connections.mjs, 127.0.0.1) each POST /api/orders with its own
  Idempotency-Key and the user's bearer token, the next as soon as the last is answered, until all
  ${settings.orders} are placed; each order's send time is recorded. Nothing polls an order: one
  \`SELECT count(*)\` on the orders D1 every 250 ms tells when all are terminal (bounded: ${settings.drainS} s);
  then each order's terminal time is read from its row: the last \`finishedAt\` of its saga
  timeline, taken by the saga right after its final step committed the status with its event
  (the row's \`updated_at\`, written by the mirror after it, is ${list(runs.flatMap((run) => keys.filter((k) => run.results[k]).map((k) => run.results[k].mirrorLagMs)), 0)} ms later at the median, by target and run). workerd's clock
  advances at I/O, so in-worker times are good to a millisecond or so; Node and workerd share the
  system clock.
  - **orders/s to terminal** = terminal orders ÷ (last terminal time − first POST sent);
  - **completion** = the order's terminal time − its POST's send time (the POST's own time included);
  - **POST** = send → the 202 read by the client (the saga runs after the answer).
  - Targets: (a) no chaos, QStash with no duplicates. (b) chaos: \`PUT /_ops/chaos/payments\`
    \`${JSON.stringify(CHAOS.payments)}\` (every call to payments, which are the saga's charges,
    waits ${CHAOS.payments.latencyMs} ms, and ${CHAOS.payments.failureRate * 100} % are answered ${CHAOS.payments.status}, which the saga retries with backoff), and QStash
    \`duplicateRate\` ${CHAOS.duplicateRate} (${CHAOS.duplicateRate * 100} % of deliveries made twice; the consumers' inboxes drop the copy). No saga
    crashes: a step that crashed is run again only when its lease ends (SAGA_CALL_TIMEOUT_MS +
    5 s), so crashes would measure the lease, not throughput (test/system covers them).${keys.includes('c') ? `
    (c) (a) with Miniflare's temporary storage on a tmpfs (${memoryDir}) instead of the disk.` : ''}
  - ${runs.length} runs, each visiting the targets in rotated order (${runs.map((run) => run.visit.join(', ')).join('; ')}). Took ${Math.round(tookS)} s
    in all (each suite starts in ${fixed(med(runs.flatMap((run) => Object.values(run.results).map((r) => r.startS))), 0)} s: bundling every worker and migrating every D1).

${markdownTable(rows)}

(b) ÷ (a), chaos over no chaos: ${ratioLine('b', 'a')}.
${memoryPart}

### Where an order's time goes

p50 (p99) in ms of each phase, from the orders' own saga timelines; a step's time runs from its
first attempt's start to its outcome, so it includes its retries, the saga's own writes before
and after each call, and the participant's work. "Unloaded": the ${settings.probes} orders placed one at a
time before the load (POST p50, completion p50; for (b), under its chaos).

${markdownTable(phaseRows)}

### The events of the run

Each order writes 2 events to the orders outbox (\`order.placed\`, \`order.completed\`, each
fanned out by QStash to 3 consumers), 1 to payments' (\`payment.charged\`, to notifications), and
notifications, as those arrive, 3 mails to its queues: 10 deliveries an order. None of this is on
an order's way to its terminal state: the saga commits the status with its event, and each
service's relay publishes afterwards. Outbox rows include the ${settings.probes + 1} orders placed before the load; deliveries do not.

${markdownTable(eventRows)}

### How to read it

- **Orders reach their terminal state as fast as they are placed.** In (a) the clients placed
  ${list(a((r) => r.postsPerS), 1)} orders/s and orders became terminal at ${list(a((r) => r.ordersPerS), 1)}/s (POSTs/s ÷ orders/s:
  ${list(postBound, 2)}); the last order was terminal ${list(drainA, 2)} s after the last POST was answered. From
  placement to terminal an order took about ${list(sagaA, 0)} ms (p50, the phases above added up), its POST
  ${list(a((r) => r.post.p50), 0)} ms, against ${list(a((r) => r.unloaded.post.p50), 0)} ms unloaded. So the sagas keep up with the POSTs, and
  both wait their turn for the same thing.
- **What limits both is workerd's main thread, and in (a) the disk syncs it waits for.** In
  Miniflare one thread runs the JavaScript of all seven workers and every SQLite statement of every
  Durable Object and every D1 database, and a commit to disk blocks it. In (c) that thread was
  ${list(c(mainBusy), 0)} % busy: saturated, at about ${list(c(mainMsPerOrder), 1)} ms of its time per order (everything in
  the window: the POST, the saga, the participants, the few events delivered in it). In (a) it was
  ${list(a(mainBusy), 0)} % busy, at ${list(a(mainMsPerOrder), 1)} ms per order for the same orders (writing to a real file costs
  kernel time too), and the machine waited on I/O ${list(a(ioWait), 0)} % of a core: much of the thread's idle
  time is waiting for the disk. The machine as a whole was ${list(a(machineBusy), 0)} % busy (of both cores) and
  the clients and the local QStash used little (the Node column): one thread, not the machine, is
  full. On a tmpfs the same orders go ${list(pairs('c', 'a', (r) => r.ordersPerS), 2)}× as fast ((c) ÷ (a) above): on this machine the
  disk takes ${list(pairs('c', 'a', (r) => r.ordersPerS).map((x) => 100 * (1 - 1 / x)), 0)} % of the suite's time under load (1 − (a) ÷ (c) in orders/s).
  ${onCloudflare}
- **The per-order work is mostly durable writes, not the saga's sequence of calls.** Unloaded, a
  whole order (POST, reserve, charge, confirm) completes in ${list(a((r) => r.unloaded.completion.p50), 0)} ms, and many run at once (up to
  ${list(a((r) => r.peakOpen), 0)} orders were between their POST and their terminal state at one moment), so the
  three sequential calls cost each order latency, not the suite throughput.
  Counted from the code (not measured), an order commits about two dozen writes on its way to
  terminal: on the POST the saga object's state, its alarm, the order row with \`order.placed\` in
  one D1 batch, and the state again (4; the rate limiter keeps its window in memory); per step (3)
  the saga's state and alarm before the call, the D1 mirror of its timeline, then the state and
  the mirror again after it (15 in all); the participants' own batches (the reservation with its
  stock; the charge with its event; the commit; then the orders' settle with \`order.completed\`:
  4); the alarm's deletion at the end. All but the three participant batches are the orders
  service's own bookkeeping (its saga object and its one D1 database, which every POST and every
  step of every saga writes): docs/architecture.md, decision 5, each transition persisted before and after
  its call, is what an order pays most for.
- **Not the outbox relay or the QStash fan-out: they lag behind instead.** Only ${list(windowDeliveries.map((x) => x * 100), 0)} % of the
  run's ${a((r) => r.qstashTotal.delivered)[0]} deliveries (${fixed(a((r) => r.qstashTotal.delivered / r.terminal)[0], 0)} per order) happened inside the measured windows of (a) and (c).
  Each worker's relay is one Durable Object that publishes its rows one at a time, on the same busy
  thread: during the burst it barely advances, and the orders' and payments' outboxes were all
  published ${list(published, 1)} s after the last order was terminal, every event delivered ${list(settled, 1)} s after.
  So orders/s here is the sagas' rate with the event work pushed past the window, not a steady
  state in which both keep up; a longer run would have to fit both into the same thread and would
  settle lower. The events lag the orders by seconds under load, by design (the outbox decouples
  them)${deadLettered === 0 ? ', and nothing is lost (dead-lettered: 0)' : `; ${deadLettered} went to the DLQ (see the table)`}.
- **Chaos: retries are more work on the same thread, plus a tail.** With ${CHAOS.payments.failureRate * 100} % of charges answered
  ${CHAOS.payments.status}, an order made ${list(chargeB, 2)} charge attempts on average; each failure waits ${SAGA_VARS.SAGA_RETRY_BASE_MS} ms, doubling up to
  ${SAGA_VARS.SAGA_RETRY_MAX_MS} ms with jitter, and every call to payments also waits ${CHAOS.payments.latencyMs} ms: the charge step's p50 went from
  ${list(a((r) => r.steps.charge.p50), 0)} to ${list(b((r) => r.steps.charge.p50), 0)} ms and its p99 from ${list(a((r) => r.steps.charge.p99), 0)} to ${list(b((r) => r.steps.charge.p99), 0)} ms. A failed attempt is not free: the saga
  writes its state, alarm and mirror before and after it like any other, and duplicated deliveries
  add consumer work (${list(b((r) => r.qstash.delivered), 0)} deliveries in the window against ${list(a((r) => r.qstash.delivered), 0)}; a longer window also lets the
  relays catch up inside it): the main thread spent ${list(b(mainMsPerOrder), 1)} ms per order against ${list(a(mainMsPerOrder), 1)} in
  (a). The POSTs share that thread (POSTs/s ${list(pairs('b', 'a', (r) => r.postsPerS), 2)} of (a)'s, run by run). And the retries add a
  tail: the last order was terminal ${list(drainB, 2)} s after the last POST, against ${list(drainA, 2)} s without chaos.
  The tail is the unluckiest order's: a charge fails k times in a row with probability 0.3^k, each
  wait up to ${SAGA_VARS.SAGA_RETRY_MAX_MS} ms, and the slowest charge step took ${list(b((r) => r.steps.charge.max), 0)} ms. In a ${settings.orders}-order burst that one
  order weighs on orders/s; over the first 99 % of the orders (the column beside orders/s) (b) ÷ (a)
  is ${list(pairs('b', 'a', (r) => r.ordersPerS99), 2)}, the steadier comparison. A payments outage does not stop orders being placed
  (the saga runs after the 202); it makes each one cost more.
  ${chaosAllCompleted ? `Every order still completed (retries, not compensation: the deadline is ${Number(SAGA_VARS.SAGA_DEADLINE_MS) / 1000} s).` : `Not every order completed: ${list(b((r) => r.statuses.CANCELLED ?? 0), 0)} cancelled (the deadline is ${Number(SAGA_VARS.SAGA_DEADLINE_MS) / 1000} s; see the reasons in the orders D1).`}
- All in one workerd on ${os.cpus().length} cores shared with the clients and the local QStash, on this machine's
  virtual disk: the absolute figures are this machine's; the ratios between targets of one run, and
  the breakdown, are the result. Run to run, orders/s spread over ${fixed(spreadOf(a((r) => r.ordersPerS)), 0)} % of its mean in (a),
  ${fixed(spreadOf(b((r) => r.ordersPerS)), 0)} % in (b)${keys.includes('c') ? ` and ${fixed(spreadOf(c((r) => r.ordersPerS)), 0)} % in (c)` : ''}, while the main thread's time per order for the same work spread
  over ${fixed(spreadOf(a(mainMsPerOrder)), 0)} % in (a)${keys.includes('c') ? ` and ${fixed(spreadOf(c(mainMsPerOrder)), 0)} % in (c)` : ''} with nothing else running: this (virtual) machine's own speed
  drifts between runs, so a ratio within one run is only as good as that spread; read the two runs
  as the error bar, not either one as the figure.
`;
}

const spreadOf = (values) => {
  if (values.length < 2) return NaN;
  const mean = values.reduce((x, y) => x + y, 0) / values.length;
  return ((Math.max(...values) - Math.min(...values)) / mean) * 100;
};

