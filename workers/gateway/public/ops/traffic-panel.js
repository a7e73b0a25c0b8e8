// Traffic per route: request rate and p50/p99 latency between two polls, drawn with uPlot, and a
// table of the latest numbers (also what a screen reader reads). The server keeps only totals
// (GET /_ops/metrics); the rates come from the difference between this read and the previous one.
import uPlot from './vendor/uPlot.esm.js';
import { el, fill } from './dom.js';
import { histogramDelta, quantile } from './histogram.js';

const POINTS = 90;
const RATE_SERIES = 6;
const COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

const keyOf = (r) => `${r.service} ${r.route}`;
const ms = (seconds) => (seconds === null ? null : Math.round(seconds * 10000) / 10);

let previous = null;
/** One entry a poll: its time (s) and, per route key, {rate, p50, p99}. */
const samples = [];
const charts = { rate: null, rateKeys: '', latency: null, latencyKey: '' };
/** The route the operator picked for the latency chart; until then it follows the busiest route. */
let picked = null;

function chart(target, series, data, yLabel) {
  const width = Math.max(320, target.clientWidth || 480);
  return new uPlot(
    {
      width,
      height: 220,
      series: [{}, ...series.map((label, i) => ({ label, stroke: COLOURS[i % COLOURS.length], width: 2, spanGaps: true }))],
      axes: [{}, { label: yLabel, size: 60 }],
      scales: { x: { time: true } },
      legend: { live: false },
    },
    data,
    target,
  );
}

function drawRate(target, routes, latest) {
  // Routes with traffic right now (at least the busiest one, so the chart never goes blank).
  const active = routes.filter((r) => (latest.get(keyOf(r))?.rate ?? 0) > 0);
  const keys = (active.length ? active : routes.slice(0, 1)).slice(0, RATE_SERIES).map(keyOf);
  const data = [samples.map((s) => s.t), ...keys.map((k) => samples.map((s) => s.routes.get(k)?.rate ?? null))];
  if (charts.rateKeys !== keys.join('|')) {
    charts.rate?.destroy();
    target.replaceChildren();
    charts.rate = chart(target, keys, data, 'req/s');
    charts.rateKeys = keys.join('|');
  } else charts.rate.setData(data);
}

function drawLatency(target, key) {
  const data = [samples.map((s) => s.t), ...['p50', 'p99'].map((p) => samples.map((s) => s.routes.get(key)?.[p] ?? null))];
  if (charts.latencyKey !== key) {
    charts.latency?.destroy();
    target.replaceChildren();
    charts.latency = chart(target, ['p50', 'p99'], data, 'ms');
    charts.latencyKey = key;
  } else charts.latency.setData(data);
}

function fillRouteChoice(select, routes) {
  const keys = routes.map(keyOf);
  if (select.options.length !== keys.length || [...select.options].some((o, i) => o.value !== keys[i])) {
    fill(select, keys.map((k) => el('option', { value: k, textContent: k })));
  }
  select.value = picked && keys.includes(picked) ? picked : (keys[0] ?? '');
  return select.value;
}

export function renderTraffic({ rateChart, latencyChart, latencySelect, routesTable }, metrics) {
  const t = Date.parse(metrics.at) / 1000;
  const before = new Map((previous?.routes ?? []).map((r) => [keyOf(r), r]));
  const elapsed = previous ? t - Date.parse(previous.at) / 1000 : 0;
  const now = new Map();
  for (const route of metrics.routes) {
    const last = before.get(keyOf(route));
    const window = histogramDelta(route.durationSeconds, last?.durationSeconds);
    now.set(keyOf(route), {
      rate: elapsed > 0 ? (route.requests - (last?.requests ?? 0)) / elapsed : null,
      p50: ms(quantile(0.5, window)),
      p99: ms(quantile(0.99, window)),
    });
  }
  previous = metrics;
  samples.push({ t, routes: now });
  if (samples.length > POINTS) samples.shift();

  // Busiest first by the latest rate, then by total, so the chart shows what is happening now;
  // the operator endpoints (this page's own polling among them) after the traffic they watch.
  const own = (r) => (r.route.startsWith('/_ops') ? 1 : 0);
  const routes = [...metrics.routes].sort((a, b) => own(a) - own(b) || (now.get(keyOf(b)).rate ?? 0) - (now.get(keyOf(a)).rate ?? 0) || b.requests - a.requests);
  drawRate(rateChart, routes, now);
  drawLatency(latencyChart, fillRouteChoice(latencySelect, routes));
  fill(routesTable.tBodies[0], routes.map((r) => {
    const n = now.get(keyOf(r));
    return el('tr', {},
      el('td', {}, r.service), el('td', {}, r.route), el('td', {}, String(r.requests)), el('td', {}, String(r.serverErrors)),
      el('td', {}, n.rate === null ? '–' : n.rate.toFixed(2)), el('td', {}, n.p50 === null ? '–' : String(n.p50)), el('td', {}, n.p99 === null ? '–' : String(n.p99)));
  }));
}

/** The operator picked a route: the latency chart keeps it, redrawn at once from the samples held. */
export function showLatencyOf(target, key) {
  picked = key;
  drawLatency(target, key);
}
