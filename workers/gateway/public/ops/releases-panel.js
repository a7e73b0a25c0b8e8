// Releases without a deploy: the feature flags in force (toggle, rollout percentage, a new flag)
// and each versioned route's automated canary rollout (start, watch, abort). Every change goes
// through `act` (dashboard.js), which shows the answer and reads every panel again.
import { el, fill, time } from './dom.js';

/** Not redrawn while the operator is typing in it: a poll must not wipe a half-written value. */
const busy = (container) => container.contains(document.activeElement) && document.activeElement?.tagName === 'INPUT';

const number = (label, value, attrs = {}) => el('input', { type: 'number', value: String(value), ariaLabel: label, ...attrs });

/** `{<key>: {enabled, rolloutPercent, allow?, deny?, source, updatedAt?}}` from GET /_ops/flags. */
export function renderFlags(container, flags, act) {
  if (busy(container)) return;
  const put = (key, flag) => act(`/flags/${encodeURIComponent(key)}`, { method: 'PUT', body: flag }, (a) => `${key}: ${a[key].enabled ? `on for ${a[key].rolloutPercent}%` : 'off'}`);
  const rows = Object.entries(flags).map(([key, flag]) => {
    const definition = { enabled: flag.enabled, rolloutPercent: flag.rolloutPercent, ...(flag.allow ? { allow: flag.allow } : {}), ...(flag.deny ? { deny: flag.deny } : {}) };
    const percent = number(`${key} rollout percent`, flag.rolloutPercent, { min: 0, max: 100, step: 0.01 });
    const toggle = el('button', { type: 'button', textContent: flag.enabled ? 'Turn off' : 'Turn on', ariaLabel: `${flag.enabled ? 'Turn off' : 'Turn on'} ${key}` });
    toggle.addEventListener('click', () => put(key, { ...definition, enabled: !flag.enabled }));
    const save = el('button', { type: 'button', textContent: 'Save %', ariaLabel: `Save ${key} rollout percent` });
    save.addEventListener('click', () => put(key, { ...definition, rolloutPercent: Number(percent.value) }));
    const lists = `${flag.allow?.length ?? 0} allowed, ${flag.deny?.length ?? 0} denied`;
    return el('tr', { dataset: { flag: key, enabled: String(flag.enabled) } },
      el('th', { scope: 'row' }, key), el('td', {}, flag.enabled ? 'on' : 'off'), el('td', {}, percent, ' ', save), el('td', {}, lists),
      el('td', {}, flag.source === 'operator' ? `operator, ${time(flag.updatedAt)}` : 'FEATURE_FLAGS default'), el('td', {}, toggle));
  });
  const key = el('input', { type: 'text', ariaLabel: 'new flag key', placeholder: 'new-flag-key', pattern: '[A-Za-z0-9][A-Za-z0-9._-]{0,63}', required: true });
  const add = el('form', { className: 'new-flag' }, el('label', {}, 'Add a flag ', key), el('button', { type: 'submit' }, 'Add (off)'));
  add.addEventListener('submit', (event) => {
    event.preventDefault();
    void put(key.value, { enabled: false, rolloutPercent: 0 });
  });
  const head = el('tr', {}, ...['flag', 'state', 'rollout %', 'lists', 'set by', ''].map((h) => el('th', { scope: 'col' }, h)));
  fill(container, [el('table', {}, el('thead', {}, head), el('tbody', {}, ...rows)), add]);
}

/** `{<route>: rollout | null}` from GET /_ops/rollouts. */
export function renderRollouts(container, rollouts, act) {
  if (busy(container)) return;
  fill(container, Object.entries(rollouts).map(([route, rollout]) => {
    const parts = [el('h3', {}, route)];
    if (rollout) {
      parts.push(el('p', { className: 'rollout-status', dataset: { status: rollout.status } },
        `${rollout.status}: ${rollout.canaryPercent}% on ${rollout.canary} (step ${rollout.step} of ${rollout.steps.length}: ${rollout.steps.join(' → ')}%; hold ${rollout.holdSeconds} s, max error rate ${rollout.maxErrorRate}, max p99 ${rollout.maxP99Ms} ms)`));
      parts.push(el('ol', { className: 'transitions' }, ...rollout.transitions.slice(-10).map((t) =>
        el('li', { dataset: { event: t.event } }, `${time(t.at)} ${t.event} ${t.from}% → ${t.to}%: ${t.reason}${t.window ? ` (${t.window.requests} requests, ${t.window.errors} errors${t.window.p99Ms === null ? '' : `, p99 ${Math.round(t.window.p99Ms)} ms`})` : ''}`))));
      if (rollout.status === 'running') {
        const abort = el('button', { type: 'button', textContent: `Abort ${route} rollout` });
        abort.addEventListener('click', () => act(`/rollouts/${encodeURIComponent(route)}`, { method: 'DELETE' }, () => `${route}: aborted, canary back to 0%`));
        parts.push(abort);
        return el('div', { className: 'rollout', dataset: { route } }, ...parts);
      }
    }
    const steps = el('input', { type: 'text', value: '10,50,100', ariaLabel: `${route} steps (percent)` });
    const hold = number(`${route} hold seconds`, 60, { min: 0.1, step: 0.1 });
    const errorRate = number(`${route} max error rate`, 0.01, { min: 0, max: 1, step: 0.001 });
    const p99 = number(`${route} max p99 ms`, 800, { min: 1, step: 1 });
    const form = el('form', { className: 'start-rollout' },
      el('label', {}, 'steps % ', steps), el('label', {}, ' hold s ', hold), el('label', {}, ' max error rate ', errorRate), el('label', {}, ' max p99 ms ', p99),
      el('button', { type: 'submit' }, `Start ${route} rollout`));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const body = { steps: steps.value.split(',').map((s) => Number(s.trim())), holdSeconds: Number(hold.value), maxErrorRate: Number(errorRate.value), maxP99Ms: Number(p99.value) };
      void act(`/rollouts/${encodeURIComponent(route)}`, { method: 'POST', body }, (a) => `${route}: started, ${a.canaryPercent}% on ${a.canary}`);
    });
    parts.push(form);
    return el('div', { className: 'rollout', dataset: { route } }, ...parts);
  }));
}
