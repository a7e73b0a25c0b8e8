// The soak run's section of bench/RESULTS.md: every sampled series over time, with its verdict
// (verdict.mjs), and the load the suite took meanwhile.
import { seriesVerdict } from './verdict.mjs';

/**
 * Tables kept by design (README's retention table: "kept" or "nothing"): the business records
 * and the ledger's event store. They grow with the load and are reported, not judged. Used card
 * tokens stay as long as the payment that charged them, so they grow with payments.
 */
export const KEPT_TABLES = new Set([
  'catalog.products',
  'orders.orders',
  'orders.order_summaries',
  'payments.payments',
  'payments.refund_totals',
  'payments.payment_methods',
  'ledger.events',
  'ledger.snapshots',
  'ledger.balances',
  'ledger.transactions',
  'ledger.projection_checkpoints',
  'ledger.balances_rebuild',
  'ledger.transactions_rebuild',
  'users.users',
  'users.refresh_families',
  'users.refresh_tokens',
]);

/** Slack for memory: workerd's heap moves by tens of MiB with garbage collection alone. */
const MEMORY_TOLERANCE = { relative: 0.1, absolute: 32 };

/** Every series of a run, with its verdict: D1 tables, objects with storage per class, memory. */
export function seriesOf(run) {
  const { samples, durationMs } = run;
  const out = [];
  const add = (name, kind, expect, pick, tolerance) => {
    const points = samples.map((s) => ({ t: s.t, value: pick(s) })).filter((p) => Number.isFinite(p.value));
    out.push({ name, kind, expect, points, result: seriesVerdict(points, { durationMs, expect, ...(tolerance ? { tolerance } : {}) }) });
  };
  const last = samples.at(-1);
  for (const table of Object.keys(last.tables).sort()) add(table, 'rows', KEPT_TABLES.has(table) ? 'kept' : 'bounded', (s) => s.tables[table]);
  add('orders not yet COMPLETED or CANCELLED', 'rows', 'bounded', (s) => s.unfinishedOrders);
  const classes = [...new Set(samples.flatMap((s) => Object.keys(s.objects)))].sort();
  for (const cls of classes) add(`${cls} objects with storage`, 'objects', 'bounded', (s) => s.objects[cls]?.withStorage ?? 0);
  add('workerd RSS (MiB)', 'memory', 'bounded', (s) => s.workerdRssMiB, MEMORY_TOLERANCE);
  add('Node RSS (MiB): load generator and local QStash', 'memory', 'bounded', (s) => s.nodeRssMiB, MEMORY_TOLERANCE);
  return out;
}

const minutes = (ms) => (ms / 60_000).toFixed(ms % 60_000 === 0 ? 0 : 1);
const num = (v) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : Number.isInteger(v) ? String(v) : v.toFixed(0));

/** About `columns` samples spread over the run (the first, the last, and evenly between). */
function columnSamples(samples, columns) {
  const step = Math.max(1, Math.round((samples.length - 1) / (columns - 1)));
  const picked = samples.filter((_, i) => i % step === 0);
  if (picked.at(-1) !== samples.at(-1)) picked.push(samples.at(-1));
  return picked;
}

export function soakSection(run) {
  const { settings, samples, durationMs } = run;
  const series = seriesOf(run);
  const cols = columnSamples(samples, 11);
  const at = (s, t) => s.points.find((p) => p.t === t)?.value;
  const empty = series.filter((s) => s.points.every((p) => p.value === 0));
  const shown = series.filter((s) => !empty.includes(s));
  const findings = series.filter((s) => s.result.verdict === 'grows');
  const lines = [];
  lines.push('## Soak', '');
  lines.push(
    `Run ${run.date}, ${run.code}, \`npm run bench:soak\` (bench/soak/): ${settings.minutes} minutes of the whole suite in one workerd with the local QStash, ` +
      `${settings.ordersPerS} orders/s and ${settings.ledgerPerS} ledger commands/s offered, retention horizons ${settings.retentionS} s, ` +
      `every service's cron fired every ${settings.cronS} s, a sample every ${settings.sampleS} s. Machine: ${run.cores} cores, load average ${run.loadAverage.map((l) => l.toFixed(2)).join(' / ')} at the start; ` +
      'other work shares the machine, so the load offered was not always the load served (the `behind` figures).',
    '',
  );
  const o = run.orders;
  const l = run.ledger;
  const outcomeText = (outcomes) =>
    Object.entries(outcomes)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${n} × ${k}`)
      .join(', ');
  const q = samples.at(-1).qstash;
  lines.push(
    `- **Load**: ${o.launched} orders (${outcomeText(o.outcomes)}; at most ${o.peakBehind} behind schedule), ${l.launched} ledger commands (${outcomeText(l.outcomes)}; at most ${l.peakBehind} behind). ` +
      `Orders by ${settings.usersPerRotation} users a minute, new users every minute; ${Math.round(settings.declinedShare * 100)} % with the declined card, ${Math.round(settings.repeatShare * 100)} % of orders and ledger commands sent twice with their Idempotency-Key.`,
    `- **Chaos**: half of each ${minutes(durationMs / settings.chaosCycles)}-minute cycle, ${run.chaosChanges.on} times: payments ${JSON.stringify(settings.chaos.payments)}, catalog ${JSON.stringify(settings.chaos.catalog)}; ` +
      `QStash duplicateRate ${settings.duplicateRate} throughout: ${q.delivered} deliveries, ${q.duplicated} duplicated, ${q.retried} retried, ${q.deadLettered} dead-lettered.`,
    `- **Crons**: ${run.crons.runs} scheduled-handler runs${Object.keys(run.crons.failed).length ? `, failed: ${JSON.stringify(run.crons.failed)}` : ', none failed'}. ` +
      `Samples: ${samples.length}${run.skippedSamples ? `, ${run.skippedSamples} skipped (their reads failed three times)` : ''}.`,
    ...(run.workerdExit
      ? [`- **workerd exited** ${minutes(run.workerdExit.t)} minutes into the run (\`${run.workerdExit.line.trim()}\`); the run ended there, with the samples up to then.`]
      : []),
    `- **Verdict**: ${findings.length === 0 ? 'every bounded series is flat' : `${findings.length} bounded series grew: ${findings.map((s) => s.name).join(', ')}`}` +
      `${run.tooShort ? ' (the run was too short for its horizon: verdicts compare a climb, not a plateau)' : ''}. Flat: the last third's maximum is at most the middle third's + 10 % + 10 (rows, objects) or + 32 MiB (memory); bench/README.md says why.`,
    '',
  );
  lines.push(`| series | ${cols.map((s) => `${minutes(s.t)} min${s.chaos ? ' ⚡' : ''}`).join(' | ')} | max 2nd third | max 3rd third | verdict |`);
  lines.push(`| --- | ${cols.map(() => '---:').join(' | ')} | ---: | ---: | --- |`);
  for (const s of shown) {
    const verdict = s.result.verdict === 'grows' ? '**grows**' : s.result.verdict;
    lines.push(`| ${s.name} | ${cols.map((c) => num(at(s, c.t))).join(' | ')} | ${num(s.result.middleMax)} | ${num(s.result.lastMax)} | ${verdict} |`);
  }
  lines.push(
    '',
    `⚡: chaos on at that sample. Orders placed by each column: ${cols.map((c) => c.orders.launched).join(', ')}; ledger commands: ${cols.map((c) => c.ledger.launched).join(', ')}.`,
    `Zero throughout (nothing in the run writes them): ${empty.map((s) => s.name).join(', ') || 'none'}.`,
  );
  return `${lines.join('\n')}\n`;
}
