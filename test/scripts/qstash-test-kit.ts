import { Client, Receiver } from '@upstash/qstash';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, vi } from 'vitest';
import { startQStashServer, type QStashServer, type QStashServerOptions } from '../../scripts/qstash-server.mjs';

// What the local QStash's tests share: a loopback endpoint that records deliveries, a server with
// a fast clock and the official client for it, and the Receiver to verify signatures. Importing
// it registers the hooks that close what each test started.

export interface Delivery {
  path: string;
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}
export type Answer = { status?: number; body?: string; headers?: Record<string, string>; holdMs?: number };

/** A loopback endpoint that records every request and answers as `answer` says (200 'ok' by default). */
export async function startEndpoint(answer: (delivery: Delivery, index: number) => Answer = () => ({})) {
  const deliveries: Delivery[] = [];
  let concurrent = 0;
  let maxConcurrent = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const delivery = { path: req.url ?? '/', method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      deliveries.push(delivery);
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      const { status = 200, body = 'ok', headers = {}, holdMs = 0 } = answer(delivery, deliveries.length - 1);
      if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs));
      concurrent--;
      if (!res.destroyed) res.writeHead(status, headers).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (path: string) => `${base}${path}`,
    deliveries,
    to: (path: string) => deliveries.filter((d) => d.path === path),
    maxConcurrent: () => maxConcurrent,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// The client logs every non-2xx answer with console.error before it throws; the refusals these
// tests provoke on purpose (404, 401, 400) are asserted on the thrown error instead.
beforeEach(() => {
  const error = console.error.bind(console);
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('[Upstash QStash]')) return;
    error(...args);
  });
});

export const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  while (cleanups.length) await cleanups.pop()!();
});

/** A fresh server (fast clock by default), an endpoint, and an official client for them. */
export async function setup(options: QStashServerOptions = {}, answer?: (delivery: Delivery, index: number) => Answer) {
  const qstash = await startQStashServer({ retryDelayScale: 0.001, delayScale: 0.001, ...options });
  cleanups.push(() => qstash.close());
  const endpoint = await startEndpoint(answer);
  cleanups.push(() => endpoint.close());
  const client = new Client({ baseUrl: qstash.url, token: qstash.token, enableTelemetry: false, retry: false, devMode: false });
  return { qstash, endpoint, client };
}

export const header = (delivery: Delivery | undefined, name: string) => {
  const value = delivery?.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
};

export const verify = (keys: { current: string; next: string }, delivery: Delivery, url: string, body = delivery.body) =>
  new Receiver({ currentSigningKey: keys.current, nextSigningKey: keys.next, devMode: false }).verify({ signature: header(delivery, 'upstash-signature')!, body, url });

export const keysOf = (qstash: QStashServer) => ({ current: qstash.currentSigningKey, next: qstash.nextSigningKey });

export async function raw(qstash: QStashServer, path: string, init: RequestInit = {}) {
  const response = await fetch(`${qstash.url}${path}`, { ...init, headers: { authorization: `Bearer ${qstash.token}`, ...(init.headers as Record<string, string>) } });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}
