import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cronSchedules, nextFire, startDevCrons } from '../../scripts/dev-crons.mjs';
import { pollUntil } from '../../scripts/poll-until.mjs';
import { serviceWorkers } from '../../scripts/workers.mjs';

/** scripts/dev-crons.mjs: `npm run dev` firing each worker's scheduled handler on its own cron. */
describe('dev crons', () => {
  const stops: (() => void)[] = [];
  afterEach(() => {
    for (const stop of stops.splice(0)) stop();
  });

  it('computes the next fire time in UTC, strictly after the given time', () => {
    expect(nextFire('* * * * *', new Date('2026-01-01T00:00:30Z')).toISOString()).toBe('2026-01-01T00:01:00.000Z');
    expect(nextFire('* * * * *', new Date('2026-01-01T00:01:00Z')).toISOString()).toBe('2026-01-01T00:02:00.000Z');
    expect(nextFire('*/15 * * * *', new Date('2026-01-01T00:16:00Z')).toISOString()).toBe('2026-01-01T00:30:00.000Z');
    expect(nextFire('0 3 * * 1', new Date('2026-01-01T00:00:00Z')).toISOString()).toBe('2026-01-05T03:00:00.000Z');
    expect(() => nextFire('not a cron', new Date())).toThrow();
  });

  it("reads every worker's [triggers] crons: each service with a cron trigger is scheduled", () => {
    const schedules = cronSchedules();
    for (const worker of serviceWorkers()) {
      for (const cron of worker.crons) expect(schedules).toContainEqual({ service: worker.name, cron });
    }
    expect(schedules.map((s) => s.service)).toEqual(expect.arrayContaining(['catalog', 'ledger', 'notifications', 'orders', 'payments']));
    // The gateway's own (root wrangler.toml): the HTTP origins' health checks, the synthetic user's
    // check and the alerts, every minute.
    expect(schedules).toContainEqual({ service: 'gateway', cron: '* * * * *' });
    // The canary shares the catalog's D1: pruned once, by the catalog's cron.
    expect(schedules.map((s) => s.service)).not.toContain('catalog-canary');
  });

  it('fires a scheduled handler on its schedule with nobody calling it, and logs the run', async () => {
    const calls: { path: string; auth: string | undefined; body: string }[] = [];
    const server = createServer(async (req: IncomingMessage, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      calls.push({ path: req.url ?? '', auth: req.headers.authorization, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stops.push(() => server.close());
    const { port } = server.address() as AddressInfo;

    // The clock stands 150 ms before a minute boundary, so '* * * * *' is due almost at once.
    const skew = Math.ceil(Date.now() / 60_000) * 60_000 - 150 - Date.now();
    const lines: string[] = [];
    const crons = startDevCrons({
      baseUrl: `http://127.0.0.1:${port}`,
      adminToken: 'tok',
      schedules: [{ service: 'orders', cron: '* * * * *' }],
      log: (line) => lines.push(line),
      now: () => new Date(Date.now() + skew),
    });
    stops.push(() => crons.stop());

    await pollUntil('the cron run', () => calls.length, (n) => n >= 1, { timeoutMs: 5_000, intervalMs: 10 });
    expect(calls[0]).toEqual({ path: '/_ops/crons/orders', auth: 'Bearer tok', body: JSON.stringify({ cron: '* * * * *' }) });
    await pollUntil('the log line', () => lines, (l) => l.some((line) => line.startsWith('cron: orders "* * * * *" ran at')), { timeoutMs: 5_000, intervalMs: 10 });
    expect(crons.runs[0]).toMatchObject({ service: 'orders', status: 200 });
  });
});
