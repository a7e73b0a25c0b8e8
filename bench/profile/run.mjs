#!/usr/bin/env node
// `npm run bench:profile`: where the gateway's CPU goes on the catalog route. The gateway (as
// bench:peer's edge row: its code without the local asset router, built unminified so frames keep
// their names) in workerd with the V8 inspector on, under the same 10-connection load as
// bench:peer, against the same `ok` upstream; a sampling CPU profile of the gateway's isolate is
// taken over the load and written to bench/.out/gateway.cpuprofile (open it in Chrome DevTools'
// Performance panel or any .cpuprofile viewer), and the top functions by self and by inclusive time
// are printed. Proportions hold on a busy machine; absolute times do not. Nothing is asserted.
import { Log, LogLevel, Miniflare } from 'miniflare';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { bundledWorkerOptions } from '../../scripts/worker-bundle.mjs';
import { ROOT } from '../../scripts/workers.mjs';
import { positiveKnob } from '../lib/env-knob.mjs';
import { buildBundles, externalService, gatewayLikeWorker } from '../lib/gateway-target.mjs';
import { load } from '../lib/load.mjs';
import { startChild, stopAll } from '../peer/child-server.mjs';
import { PREFIX, stratusRoutePolicies } from '../peer/policy.mjs';
import { profileTops } from './profile-tops.mjs';

const durationS = positiveKnob('BENCH_DURATION_S', 8);
const INSPECTOR_PORT = positiveKnob('BENCH_INSPECTOR_PORT', 9339, { integer: true });
const OUT = join(ROOT, 'bench', '.out', 'gateway.cpuprofile');

/** A tiny Chrome DevTools Protocol client over the inspector's WebSocket: one call, one answer. */
async function inspector(url) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let nextId = 0;
  const waiting = new Map();
  ws.on('message', (data) => {
    const message = JSON.parse(String(data));
    waiting.get(message.id)?.(message);
    waiting.delete(message.id);
  });
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      const id = ++nextId;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.close() };
}

let mf;
const watchdog = setTimeout(() => {
  console.error('profile still running after its budget; stopping');
  process.exit(1);
}, (durationS + 180) * 1000);
watchdog.unref();
try {
  const upstream = await startChild(join(ROOT, 'bench/peer/upstream-server.mjs'), { JWKS: '{"keys":[]}' });
  console.log('bundling the gateway (unminified) with `wrangler deploy --dry-run`…');
  const bundles = await buildBundles('profile');
  gatewayLikeWorker(join(ROOT, 'workers/gateway/index.ts'), 'profile-gateway');
  const config = join(ROOT, 'bench', '.out', 'profile-gateway.wrangler.toml');
  writeFileSync(config, readFileSync(config, 'utf8').replace(/^minify = true$/m, 'minify = false'));
  const gateway = bundledWorkerOptions(config, 'bench-profile-gateway-unminified', { bindings: bundles.vars });
  const services = [...new Set(Object.values(gateway.serviceBindings ?? {}).map((binding) => binding.name))];
  mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    inspectorPort: INSPECTOR_PORT,
    logRequests: false,
    cf: false,
    log: new Log(LogLevel.WARN),
    handleRuntimeStdio: (stdout, stderr) => (stdout.resume(), stderr.resume()),
    workers: [
      {
        ...gateway,
        bindings: { ...gateway.bindings, ROUTE_POLICIES: JSON.stringify(stratusRoutePolicies) },
        serviceBindings: { ...gateway.serviceBindings, CATALOG: externalService(upstream.url('/')), USERS: externalService(upstream.url('/')) },
      },
      ...services.map((name) => ({ ...bundles.upstream, name })),
    ],
  });
  const url = new URL(`${PREFIX}/products/prod_01`, await mf.ready).href;
  await load({ url, connections: 10, durationS: 3 }); // warm-up: JIT, leases, token caches
  const targets = await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json`, { signal: AbortSignal.timeout(10_000) })).json();
  const target = targets.find((t) => String(t.title).includes('bench-profile-gateway'));
  if (!target) throw new Error(`no inspector target for the gateway among: ${targets.map((t) => t.title).join(', ')}`);
  const cdp = await inspector(target.webSocketDebuggerUrl);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
  await cdp.send('Profiler.start');
  const result = await load({ url, connections: 10, durationS });
  const { result: stopped } = await cdp.send('Profiler.stop');
  cdp.close();
  mkdirSync(join(ROOT, 'bench', '.out'), { recursive: true });
  writeFileSync(OUT, JSON.stringify(stopped.profile));
  console.log(`${result.requests} requests in ${durationS} s (${Math.round(result.rps)} req/s) profiled; wrote ${OUT}\n`);
  console.log(profileTops(stopped.profile, 30));
} finally {
  await mf?.dispose();
  await stopAll();
  clearTimeout(watchdog);
}
