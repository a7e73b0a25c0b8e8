// Each pool of HTTP origins (the strangler fig's legacy monolith, and any other): per origin its
// health (the breaker's state and the last scheduled health check), whether the pool picks it now,
// and its share of the pool's traffic.
import { el, fill, percent } from './dom.js';

/** `pools`: GET /_ops/origins' answer. */
export function renderOrigins(table, pools) {
  const rows = [];
  for (const [route, pool] of Object.entries(pools)) {
    rows.push(el('tr', { className: 'summary' }, el('td', {}, route), el('td', { colSpan: 5 }, `${pool.prefix} · ${pool.balancer}${pool.hashBy ? ` by ${pool.hashBy}` : ''} · ${pool.origins.length} origin${pool.origins.length === 1 ? '' : 's'}`)));
    if (pool.origins.length === 0) rows.push(el('tr', {}, el('td', {}, ''), el('td', { colSpan: 5 }, 'none configured (ORIGIN_POOLS): its paths answer 404')));
    for (const origin of pool.origins) {
      const check = origin.check ? `${origin.check.status}${origin.check.httpStatus ? ` (${origin.check.httpStatus})` : ''}, ${new Date(origin.check.checkedAt).toLocaleTimeString()}` : 'not checked yet';
      rows.push(el('tr', { dataset: { origin: `${route}~${origin.name}`, healthy: String(origin.healthy) } },
        el('td', {}, ''),
        el('td', { title: origin.url }, `${origin.name} (weight ${origin.weight})`),
        el('td', { className: origin.healthy ? 'ok' : 'error' }, origin.healthy ? 'healthy' : 'skipped'),
        el('td', {}, origin.breaker ? origin.breaker.state : '–'),
        el('td', { title: origin.check?.error ?? '' }, check),
        el('td', {}, `${percent(origin.share)} (${origin.requests})`)));
    }
  }
  fill(table.tBodies[0], rows);
}
