#!/usr/bin/env node
// Creates the suite's QStash topology (shared/events/topology.json) with the official client:
// a URL group per topic whose endpoints are its consumers (endpoint name = consumer name, url =
// HOOKS_BASE_URL + the consumer's hook path), and the queues with their parallelism. Idempotent:
// running it again changes nothing, and a moved HOOKS_BASE_URL replaces the old endpoints instead
// of adding a second delivery. Works against the local server and a real QStash alike:
//
//   QSTASH_URL=... QSTASH_TOKEN=... HOOKS_BASE_URL=https://<gateway> node scripts/qstash-setup.mjs
import { Client } from '@upstash/qstash';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const TOPOLOGY_PATH = join(ROOT, 'shared', 'events', 'topology.json');

export const readTopology = (path = TOPOLOGY_PATH) => JSON.parse(readFileSync(path, 'utf8'));

/** The endpoints each topic should have, checked against the consumers the topology names. */
export function desiredEndpoints(topology, hooksBaseUrl) {
  const base = hooksBaseUrl.replace(/\/+$/, '');
  return Object.fromEntries(
    Object.entries(topology.topics).map(([topic, consumers]) => [
      topic,
      consumers.map((name) => {
        const path = topology.consumers[name];
        if (!path) throw new Error(`topology.json: topic ${topic} names consumer ${name}, which has no hook path in "consumers"`);
        return { name, url: `${base}${path}` };
      }),
    ]),
  );
}

/**
 * @returns {Promise<{ topics: Record<string, { added: string[], removed: string[] }>, queues: Record<string, 'created' | 'updated' | 'unchanged'> }>}
 */
export async function setupQStash({ url, token, hooksBaseUrl, topology = readTopology(), log = console.log }) {
  if (!url || !token || !hooksBaseUrl) throw new Error('setupQStash needs url (QSTASH_URL), token (QSTASH_TOKEN) and hooksBaseUrl (HOOKS_BASE_URL)');
  // devMode false: never let QSTASH_DEV in the environment swap our URL for the client's own dev server.
  const client = new Client({ baseUrl: url, token, devMode: false, enableTelemetry: false });
  const summary = { topics: {}, queues: {} };

  // Lists rather than a GET per name: the client logs every 404 as an error, which would make a
  // first run against an empty QStash look like a failure.
  const groups = new Map((await client.urlGroups.list()).map((group) => [group.name, group]));
  for (const [topic, wanted] of Object.entries(desiredEndpoints(topology, hooksBaseUrl))) {
    const existing = groups.get(topic)?.endpoints ?? [];
    const same = (a, b) => a.url === b.url && (a.name ?? '') === (b.name ?? '');
    // Anything the topology does not list goes: an old URL, a consumer no longer subscribed.
    const stale = existing.filter((endpoint) => !wanted.some((w) => same(w, endpoint)));
    const missing = wanted.filter((w) => !existing.some((endpoint) => same(w, endpoint)));
    if (stale.length > 0) await client.urlGroups.removeEndpoints({ name: topic, endpoints: stale.map(({ name, url }) => (name ? { name, url } : { url })) });
    if (missing.length > 0) await client.urlGroups.addEndpoints({ name: topic, endpoints: missing });
    summary.topics[topic] = { added: missing.map((e) => e.name), removed: stale.map((e) => e.name ?? e.url) };
    const change = [missing.length && `added ${missing.map((e) => e.name).join(', ')}`, stale.length && `removed ${stale.map((e) => e.name ?? e.url).join(', ')}`].filter(Boolean);
    log(`qstash: url group ${topic} -> ${wanted.map((e) => e.name).join(', ')} (${change.length ? change.join('; ') : 'unchanged'})`);
  }

  const queues = new Map((await client.queue().list()).map((queue) => [queue.name, queue]));
  for (const [queueName, { parallelism }] of Object.entries(topology.queues)) {
    const queue = client.queue({ queueName });
    const existing = queues.get(queueName);
    // An upsert also sets `paused`: keep whatever an operator chose.
    if (existing && existing.parallelism === parallelism) summary.queues[queueName] = 'unchanged';
    else {
      await queue.upsert({ parallelism, paused: existing?.paused ?? false });
      summary.queues[queueName] = existing ? 'updated' : 'created';
    }
    log(`qstash: queue ${queueName} parallelism ${parallelism} (${summary.queues[queueName]})`);
  }
  return summary;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { QSTASH_URL, QSTASH_TOKEN, HOOKS_BASE_URL } = process.env;
  setupQStash({ url: QSTASH_URL, token: QSTASH_TOKEN, hooksBaseUrl: HOOKS_BASE_URL }).catch((error) => {
    console.error(`qstash setup failed: ${error.message}`);
    process.exit(1);
  });
}
