// The page's two switches: chaos per service (PUT / DELETE /_ops/chaos/:service) and canary
// weights per versioned route (PUT /_ops/routes/:name). Rows are built once and then only their
// readings are updated, so a poll never wipes what an operator is typing.
import { ops } from './api.js';
import { el, fill } from './dom.js';

const describe = (chaos) =>
  chaos ? `failing ${Math.round(chaos.failureRate * 100)}% with ${chaos.hang ? 'a hang' : chaos.status}${chaos.latencyMs ? `, +${chaos.latencyMs} ms` : ''}` : 'off';

const number = (label, value, attrs) => el('input', { type: 'number', value: String(value), ariaLabel: label, required: true, ...attrs });

export function chaosControls(table, errorLine, refresh) {
  const rows = new Map();
  const act = async (service, on, inputs) => {
    errorLine.textContent = '';
    try {
      if (on) {
        const body = { failureRate: Number(inputs.rate.value), status: Number(inputs.status.value), latencyMs: Number(inputs.latency.value) };
        await ops(`/chaos/${encodeURIComponent(service)}`, { method: 'PUT', body });
      } else await ops(`/chaos/${encodeURIComponent(service)}`, { method: 'DELETE' });
    } catch (error) {
      errorLine.textContent = `${service}: ${error.message}`;
    }
    await refresh();
  };
  return function renderChaos(chaosByService) {
    const services = Object.keys(chaosByService).sort();
    if (services.join() !== [...rows.keys()].join()) {
      rows.clear();
      fill(table.tBodies[0], services.map((service) => {
        const inputs = {
          rate: number(`${service} failure rate, 0 to 1`, 1, { min: 0, max: 1, step: 0.05 }),
          status: number(`${service} status to answer`, 503, { min: 400, max: 599, step: 1 }),
          latency: number(`${service} added latency in ms`, 0, { min: 0, max: 60000, step: 50 }),
        };
        const now = el('td', { className: 'now' });
        const button = el('button', { type: 'button' });
        button.addEventListener('click', () => act(service, button.dataset.action === 'on', inputs));
        rows.set(service, { now, button });
        return el('tr', { dataset: { service } }, el('th', { scope: 'row' }, service), now,
          el('td', {}, inputs.rate), el('td', {}, inputs.status), el('td', {}, inputs.latency), el('td', {}, button));
      }));
    }
    for (const service of services) {
      const { now, button } = rows.get(service);
      const chaos = chaosByService[service];
      now.textContent = describe(chaos);
      now.dataset.chaos = chaos ? 'on' : 'off';
      button.dataset.action = chaos ? 'off' : 'on';
      button.textContent = chaos ? 'Turn chaos off' : 'Turn chaos on';
      button.ariaLabel = `${button.textContent} for ${service}`;
    }
  };
}

export function canaryControls(container, errorLine, refresh) {
  const forms = new Map();
  return function renderCanary(routes) {
    const names = Object.keys(routes).sort();
    if (names.join() !== [...forms.keys()].join()) {
      forms.clear();
      fill(container, names.map((name) => {
        const inputs = Object.fromEntries(routes[name].versions.map((v) => [v, number(`${name} ${v} percent`, 0, { min: 0, max: 100, step: 1 })]));
        const form = el('form', { className: 'weights', dataset: { route: name } },
          el('fieldset', {}, el('legend', {}, name),
            ...Object.entries(inputs).map(([v, input]) => el('label', {}, `${v} `, input, ' %')),
            el('button', { type: 'submit' }, `Save ${name} weights`)));
        const entry = { inputs, dirty: false };
        form.addEventListener('input', () => { entry.dirty = true; });
        form.addEventListener('submit', async (event) => {
          event.preventDefault();
          errorLine.textContent = '';
          const weights = Object.fromEntries(Object.entries(inputs).map(([v, input]) => [v, Number(input.value)]));
          try {
            await ops(`/routes/${encodeURIComponent(name)}`, { method: 'PUT', body: { weights } });
          } catch (error) {
            errorLine.textContent = `${name}: ${error.message}`;
          }
          // Refused or saved, the form follows the server again (the error line keeps what was refused).
          entry.dirty = false;
          await refresh();
        });
        forms.set(name, entry);
        return form;
      }));
    }
    for (const name of names) {
      const entry = forms.get(name);
      if (entry.dirty) continue;
      for (const [v, input] of Object.entries(entry.inputs)) input.value = String(routes[name].weights[v] ?? 0);
    }
  };
}
