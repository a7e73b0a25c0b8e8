// Traces and logs for `npm run dev`: the .dev.vars that turn every worker's OTLP export on, and
// the local receiver (scripts/otel-receiver.mjs) they export to, started before wrangler.
import { join, relative } from 'node:path';
import { readDevVar, writeDevVar } from '../dev-keys.mjs';
import { LOCAL_OTEL_PORT, startOtelReceiver } from '../otel-receiver.mjs';
import { ROOT, serviceWorkers } from '../workers.mjs';

const otelPort = () => Number(process.env.OTEL_PORT || LOCAL_OTEL_PORT);

const isLoopback = (url) => {
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
};

/**
 * Adds, where missing, OTEL_EXPORTER_OTLP_ENDPOINT to every worker's .dev.vars (the local
 * receiver), OTEL_SERVICE_NAME to each service's (its outbox relay names its spans by it) and
 * OTEL_QUERY_URL to the gateway's (what /_ops/traces and /_ops/logs read). A value already there
 * is kept (an endpoint pointed at Jaeger or Honeycomb stays), except a loopback one, which follows
 * OTEL_PORT as the QStash variables follow QSTASH_PORT.
 */
export function ensureOtelDevVars({ log = console.log } = {}) {
  const url = `http://127.0.0.1:${otelPort()}`;
  const files = [
    { dir: ROOT, values: { OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_QUERY_URL: url } },
    ...serviceWorkers().map((service) => ({ dir: service.dir, values: { OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_SERVICE_NAME: service.name } })),
  ];
  for (const { dir, values } of files) {
    const file = join(dir, '.dev.vars');
    const name = relative(ROOT, file) || '.dev.vars';
    const changed = [];
    for (const [key, value] of Object.entries(values)) {
      const current = readDevVar(file, key);
      if (current !== undefined && (current === value || key === 'OTEL_SERVICE_NAME' || !isLoopback(current))) continue;
      writeDevVar(file, key, value);
      changed.push(key);
    }
    if (changed.length > 0) log(`${name}: set ${changed.join(', ')} (local OTLP receiver)`);
  }
}

/**
 * Starts the receiver on OTEL_PORT (4318, the OTLP/HTTP port every collector uses). One already
 * listening there (a collector of your own, another `npm run dev`) is left to answer instead.
 * @returns {Promise<{ url: string, close(): Promise<void> }>}
 */
export async function startDevOtel({ log = console.log } = {}) {
  const port = otelPort();
  try {
    const receiver = await startOtelReceiver({ port });
    log(`OTLP receiver on ${receiver.url}: traces at /_ops/traces, logs at /_ops/logs (scripts/otel-receiver.mjs)`);
    return receiver;
  } catch (error) {
    if (error?.code !== 'EADDRINUSE') throw error;
    log(`port ${port} is taken: exporting to whatever listens there (OTEL_PORT moves the local receiver)`);
    return { url: `http://127.0.0.1:${port}`, close: async () => {} };
  }
}
