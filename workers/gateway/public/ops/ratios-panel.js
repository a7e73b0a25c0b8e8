// Rate-limit and cache hit ratios per route, since the metrics began.
import { el, fill, percent } from './dom.js';

// `optimum` says which end is good, so the browser colours a bad ratio as one (and a screen reader says so).
const ratioCell = (ratio, good) =>
  el('td', {}, el('meter', { min: 0, max: 1, low: 0.25, high: 0.75, optimum: good, value: ratio ?? 0, title: percent(ratio) }), ' ', percent(ratio));

export function renderRatios({ rateLimitsTable, cacheTable }, metrics) {
  fill(rateLimitsTable.tBodies[0], metrics.rateLimits.map((r) =>
    el('tr', {}, el('td', {}, r.route), el('td', {}, String(r.allowed)), el('td', {}, String(r.refused)), el('td', {}, String(r.error)), ratioCell(r.refusedRatio, 0))));
  fill(cacheTable.tBodies[0], metrics.cache.map((r) =>
    el('tr', {}, el('td', {}, r.route), el('td', {}, String(r.hit)), el('td', {}, String(r.stale)), el('td', {}, String(r.miss)), el('td', {}, String(r.bypass)), ratioCell(r.hitRatio, 1))));
}
