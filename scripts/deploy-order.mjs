// The order `npm run deploy` deploys the workers in: each one after every worker it binds to.
// Cloudflare refuses to deploy a worker whose service binding names a worker that does not exist
// yet ("could not resolve service binding", code 10143), so on a first deploy the orders service
// must follow catalog and payments, and the gateway every service. Folder order is not enough.
import { readFileSync } from 'node:fs';
import { parse } from 'smol-toml';
import { gatewayConfigPath, serviceWorkers } from './workers.mjs';

/**
 * Orders workers so that each comes after the workers its service bindings name (bindings to a
 * worker outside the list are taken to exist already); otherwise the given order is kept.
 * @template {{ name: string, worker: string, bindsTo: string[] }} W
 * @param {W[]} workers
 * @returns {W[]}
 */
export function deployOrder(workers) {
  const byWorker = new Map(workers.map((w) => [w.worker, w]));
  const placed = new Set();
  const visiting = new Set();
  const order = [];
  const visit = (w, path) => {
    if (placed.has(w.worker)) return;
    if (visiting.has(w.worker)) throw new Error(`service bindings form a cycle, which cannot be deployed fresh: ${[...path, w.name].join(' -> ')}`);
    visiting.add(w.worker);
    for (const target of w.bindsTo) {
      const dependency = byWorker.get(target);
      if (dependency) visit(dependency, [...path, w.name]);
    }
    visiting.delete(w.worker);
    placed.add(w.worker);
    order.push(w);
  };
  for (const w of workers) visit(w, []);
  return order;
}

/** Every worker of the suite (services and the gateway) with its config, in deploy order. */
export function deployTargets() {
  const read = (name, configPath) => {
    const config = parse(readFileSync(configPath, 'utf8'));
    return { name, configPath, worker: String(config.name), bindsTo: (config.services ?? []).map((binding) => binding.service) };
  };
  return deployOrder([...serviceWorkers().map((s) => read(s.name, s.configPath)), read('gateway', gatewayConfigPath())]);
}
