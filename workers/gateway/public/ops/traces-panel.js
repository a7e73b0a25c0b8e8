// The Traces panel: recent traces from GET /_ops/traces (slowest first, filtered by route and
// status as the endpoint is), and one trace's waterfall from GET /_ops/traces/:traceId as
// OTLP/JSON, laid out by trace-layout.js (the same layout as the gateway's own trace page) and
// drawn here with the page's token. Any trace id can be pasted, or a `traceresponse` value.
import { ops, OpsError } from './api.js';
import { el, fill, time } from './dom.js';
import { formatMs, layoutTrace } from './trace-layout.js';

const TRACE_ID = /^[0-9a-f]{32}$/;

/** What the panel says while the gateway has no trace store to read (GET /_ops/traces answered 503). */
export const NO_TRACE_STORE =
  'No traces to show: the gateway has no trace store. Set OTEL_QUERY_URL on the gateway to an OTLP receiver it can query (`npm run dev` starts one and sets it), and OTEL_EXPORTER_OTLP_ENDPOINT on every worker so they send their spans there. A deployment exports to a collector; look at traces there.';

/**
 * The trace id in what an operator pasted: 32 hex digits, or a `traceparent` / `traceresponse`
 * value (`00-<trace id>-<span id>-01`); null when it holds none.
 */
export function traceIdFrom(text) {
  const value = text.trim().toLowerCase();
  if (TRACE_ID.test(value)) return value;
  const parts = value.split('-');
  return parts.length === 4 && TRACE_ID.test(parts[1]) ? parts[1] : null;
}

/** One trace's waterfall: a legend of its services, then a row per span. */
function waterfall(traceId, trace) {
  const { rows, services, totalMs } = layoutTrace(trace);
  const legend = el('ul', { className: 'legend' }, ...services.map(({ name, colour }) => {
    const swatch = el('span', { className: 'swatch' });
    swatch.style.background = colour;
    return el('li', {}, swatch, name);
  }));
  const list = el('ol', { className: 'waterfall spans', ariaLabel: `spans of trace ${traceId} over ${formatMs(totalMs)}` }, ...rows.map((row) => {
    const name = el('span', { className: 'span-name' }, row.error ? '⚠ ' : '', row.name);
    // Positions and colours through the CSSOM, which the page's Content-Security-Policy allows.
    name.style.paddingLeft = `${row.depth}rem`;
    const bar = el('span', { className: 'bar' });
    bar.style.left = `${row.leftPercent}%`;
    bar.style.width = `${row.widthPercent}%`;
    bar.style.background = row.colour;
    const label = `${row.service} ${row.name}: ${formatMs(row.durationMs)}, from +${formatMs(row.offsetMs)}${row.error ? ', failed' : ''}`;
    return el('li', { title: `${row.kind}  ${row.attributes}`.trim(), dataset: { service: row.service, depth: String(row.depth), error: String(row.error) } },
      el('span', { className: 'span-service' }, row.service),
      name,
      el('span', { className: 'track', role: 'img', ariaLabel: label }, bar),
      el('span', { className: 'span-time' }, `+${formatMs(row.offsetMs)} · ${formatMs(row.durationMs)}`));
  }));
  return el('div', { className: 'trace', dataset: { traceId } },
    el('h3', {}, 'Trace ', el('code', {}, traceId)),
    el('p', { className: 'hint' }, `${rows.length} span${rows.length === 1 ? '' : 's'} across ${services.map((s) => s.name).join(', ')}; ${formatMs(totalMs)} from the first start to the last end. Hover a row for its attributes.`),
    legend,
    list);
}

/**
 * The panel over its elements. `read()` lists the recent traces (each poll's, or a filter's);
 * `open(traceId)` draws one; `reset()` forgets a refusal, for the next sign-in. A refused token
 * (401) is thrown from `read()` for the poll to sign out, and handed to `onRefused` from a click;
 * any other failure is said in the panel.
 */
export function tracesPanel({ table, view, notice, errorLine, filters, opener }, onRefused) {
  /** GET /_ops/traces answered 503: not asked again until a filter is applied or the next sign-in. */
  let noStore = false;
  let shown = '';
  let selected = null;

  const unavailable = (error) => {
    if (error instanceof OpsError && error.status === 401) throw error;
    if (error instanceof OpsError && error.status === 503) {
      noStore = true;
      notice.textContent = NO_TRACE_STORE;
      fill(table.tBodies[0], []);
      shown = '';
      return;
    }
    errorLine.textContent = `${error.status ? `${error.status}: ` : ''}${error.message}`;
  };

  function markSelected() {
    for (const row of table.tBodies[0].rows) row.dataset.selected = String(row.dataset.traceId === selected);
  }

  async function open(traceId) {
    selected = traceId;
    markSelected();
    errorLine.textContent = '';
    fill(view, [el('p', { className: 'hint' }, `Loading trace ${traceId}…`)]);
    try {
      const trace = await ops(`/traces/${traceId}`);
      // Another trace was asked for meanwhile: that one is shown, not this.
      if (selected === traceId) fill(view, [waterfall(traceId, trace)]);
    } catch (error) {
      if (selected === traceId) fill(view, []);
      // From a click, not a poll: a refused token signs out here rather than reject unheard.
      if (error instanceof OpsError && error.status === 401) return onRefused();
      unavailable(error);
    }
  }

  function renderList(items) {
    // Unchanged since the last read: the rows (and a focused button) stay as they are.
    const key = JSON.stringify(items);
    if (key === shown) return;
    shown = key;
    if (items.length === 0) {
      fill(table.tBodies[0], [el('tr', {}, el('td', { colSpan: 7, className: 'hint' }, 'No traces match (yet).'))]);
      return;
    }
    fill(table.tBodies[0], items.map((t) => {
      const button = el('button', { type: 'button', className: 'small', ariaLabel: `Open trace ${t.traceId}` }, 'Open');
      button.addEventListener('click', () => open(t.traceId));
      return el('tr', { dataset: { traceId: t.traceId, status: String(t.status ?? '') }, title: `started ${time(t.startedAt)}` },
        el('td', {}, el('code', {}, t.traceId)),
        el('td', {}, t.name || t.route || '–'),
        el('td', {}, t.status === null ? '–' : String(t.status)),
        el('td', { className: 'n' }, formatMs(t.durationMs)),
        el('td', { className: 'n' }, String(t.spanCount)),
        el('td', {}, t.services.join(', ')),
        el('td', {}, button));
    }));
    markSelected();
  }

  async function read() {
    if (noStore) return;
    const query = new URLSearchParams({ limit: '20' });
    const route = filters.elements.route.value.trim();
    const status = filters.elements.status.value.trim().toLowerCase();
    if (route) query.set('route', route);
    if (status) query.set('status', status);
    try {
      const { items } = await ops(`/traces?${query}`);
      notice.textContent = '';
      errorLine.textContent = '';
      renderList(items);
    } catch (error) {
      unavailable(error);
    }
  }

  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    // Asked by hand: a store that was missing is asked about again.
    noStore = false;
    read().catch((error) => (error instanceof OpsError && error.status === 401 ? onRefused() : (errorLine.textContent = error.message)));
  });
  opener.addEventListener('submit', (event) => {
    event.preventDefault();
    const traceId = traceIdFrom(opener.elements.traceId.value);
    if (!traceId) {
      errorLine.textContent = 'Not a trace id: 32 hex digits, or a traceresponse value (00-<trace id>-<span id>-01).';
      return;
    }
    void open(traceId);
  });

  return {
    read,
    open,
    reset() {
      noStore = false;
      shown = '';
      selected = null;
      notice.textContent = '';
      errorLine.textContent = '';
      fill(table.tBodies[0], []);
      fill(view, []);
    },
  };
}
