// Traffic per route: request rate and p50/p99 latency between two polls, drawn with uPlot, and a
// table of the latest numbers (also what a screen reader reads). The server keeps only totals
// (GET /_ops/metrics); the numbers come from traffic-window.js, which compares this read with the
// previous one.
import uPlot from './vendor/uPlot.esm.js';
import { el, fill } from './dom.js';
import { readOrder, routeKey, routeWindows } from './traffic-window.js';

const POINTS = 90;
const RATE_SERIES = 6;
const COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4d7c0f', '#be185d', '#854d0e', '#1e3a8a'];

let previous = null;
/** One entry a poll: its time (s) and, per route key, what routeWindows answers. */
const samples = [];
const charts = { rate: null, rateKeys: '', latency: null, latencyKey: '' };
/** The route the operator picked for the latency chart; until then it follows the busiest route. */
let picked = null;
/** Each route keeps the colour it first got, so a line does not change colour when the busiest routes reorder. */
const colours = new Map();
const colourOf = (key) => {
  if (!colours.has(key)) colours.set(key, COLOURS[colours.size % COLOURS.length]);
  return colours.get(key);
};

function chart(target, series, data, yLabel) {
  const width = Math.max(320, target.clientWidth || 480);
  return new uPlot(
    {
      width,
      height: 220,
      series: [{}, ...series.map(({ label, stroke }) => ({ label, stroke, width: 2, spanGaps: true }))],
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
  const active = routes.filter((r) => (latest.get(routeKey(r))?.rate ?? 0) > 0);
  const keys = (active.length ? active : routes.slice(0, 1)).slice(0, RATE_SERIES).map(routeKey);
  const data = [samples.map((s) => s.t), ...keys.map((k) => samples.map((s) => s.routes.get(k)?.rate ?? null))];
  if (charts.rateKeys !== keys.join('|')) {
    charts.rate?.destroy();
    target.replaceChildren();
    charts.rate = chart(target, keys.map((k) => ({ label: k, stroke: colourOf(k) })), data, 'req/s');
    charts.rateKeys = keys.join('|');
  } else charts.rate.setData(data);
}

function drawLatency(target, key) {
  const data = [samples.map((s) => s.t), ...['p50', 'p99'].map((p) => samples.map((s) => s.routes.get(key)?.[p] ?? null))];
  if (charts.latencyKey !== key) {
    charts.latency?.destroy();
    target.replaceChildren();
    charts.latency = chart(target, [{ label: 'p50', stroke: COLOURS[0] }, { label: 'p99', stroke: COLOURS[1] }], data, 'ms');
    charts.latencyKey = key;
  } else charts.latency.setData(data);
}

function fillRouteChoice(select, routes) {
  const keys = routes.map(routeKey);
  if (select.options.length !== keys.length || [...select.options].some((o, i) => o.value !== keys[i])) {
    fill(select, keys.map((k) => el('option', { value: k, textContent: k })));
  }
  select.value = picked && keys.includes(picked) ? picked : (keys[0] ?? '');
  return select.value;
}

const cell = (value, text = String(value)) => el('td', {}, value === null || value === undefined ? '–' : text);
const latencyCell = (value, beyond) => cell(value, beyond ? `> ${value}` : String(value));

/**
 * Draws a read of /_ops/metrics. `minSeconds`: the shortest window worth a number (reads closer
 * than that, e.g. one an operator's click asked for just after a poll, wait for a later read).
 */
export function renderTraffic({ rateChart, latencyChart, latencySelect, routesTable, minSeconds }, metrics) {
  const order = readOrder(previous, metrics, minSeconds);
  if (order === 'stale' || order === 'short') return;
  const now = order === 'window' ? routeWindows(previous, metrics) : new Map();
  previous = metrics;
  if (order === 'window') {
    samples.push({ t: Date.parse(metrics.at) / 1000, routes: now });
    if (samples.length > POINTS) samples.shift();
  }

  // Busiest first by the latest rate, then by total, so the chart shows what is happening now;
  // the operator endpoints (this page's own polling among them) after the traffic they watch.
  const own = (r) => (r.route.startsWith('/_ops') ? 1 : 0);
  const rate = (r) => now.get(routeKey(r))?.rate ?? 0;
  const routes = [...metrics.routes].sort((a, b) => own(a) - own(b) || rate(b) - rate(a) || b.requests - a.requests);
  drawRate(rateChart, routes, now);
  drawLatency(latencyChart, fillRouteChoice(latencySelect, routes));
  fill(routesTable.tBodies[0], routes.map((r) => {
    const n = now.get(routeKey(r));
    return el('tr', { dataset: { route: routeKey(r) } },
      el('td', {}, r.service), el('td', {}, r.route), el('td', {}, String(r.requests)), el('td', {}, String(r.serverErrors)),
      cell(n?.rate, n?.rate?.toFixed(2)), latencyCell(n?.p50, n?.p50Beyond), latencyCell(n?.p99, n?.p99Beyond));
  }));
}

/** The operator picked a route: the latency chart keeps it, redrawn at once from the samples held. */
export function showLatencyOf(target, key) {
  picked = key;
  drawLatency(target, key);
}

/** Signed out: the next sign-in starts from nothing (its first read is no window). */
export function resetTraffic() {
  previous = null;
  samples.length = 0;
  picked = null;
  colours.clear();
  charts.rate?.destroy();
  charts.latency?.destroy();
  Object.assign(charts, { rate: null, rateKeys: '', latency: null, latencyKey: '' });
}
