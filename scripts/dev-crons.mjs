// Cron triggers for `npm run dev`. `wrangler dev` fires none (it only exposes a manual trigger for
// the first worker, and the services sit behind the gateway's bindings), so outbox heartbeats,
// retention and the saga sweep would never run locally as they run deployed. This fires each
// worker's scheduled handler on its own `[triggers] crons` schedule (UTC, as Cloudflare runs
// them), through the gateway's POST /_ops/crons/:service, and logs each run.
//
// croner computes the next fire time: cron syntax has enough corners (steps, ranges, lists,
// day-of-week vs day-of-month) that a well-kept parser beats a hand-written one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cron } from 'croner';
import { parse } from 'smol-toml';
import { gatewayConfigPath, ROOT, serviceWorkers } from './workers.mjs';

/**
 * Every (service, cron) pair of the suite's workers, the gateway's included, from their wrangler.toml.
 * @param {{ name: string, crons: string[] }[]} [workers]
 * @returns {{ service: string, cron: string }[]}
 */
export function cronSchedules(workers = [...serviceWorkers(), gatewayWorker()]) {
  return workers.flatMap((worker) => worker.crons.map((cron) => ({ service: worker.name, cron })));
}

/**
 * The gateway (root wrangler.toml) as a cron source, run as `gateway`: one cron that health-checks
 * the HTTP origins and runs the synthetic check and the alert rules.
 */
function gatewayWorker() {
  const config = parse(readFileSync(gatewayConfigPath(), 'utf8'));
  return { name: 'gateway', crons: config.triggers?.crons ?? [] };
}

/**
 * When `cron` fires next, strictly after `after` (UTC). Throws on an expression croner refuses.
 * @param {string} cron
 * @param {Date} after
 * @returns {Date}
 */
export function nextFire(cron, after) {
  const next = new Cron(cron, { paused: true, timezone: 'UTC' }).nextRun(after);
  if (!next) throw new Error(`cron ${JSON.stringify(cron)} never fires`);
  return next;
}

/** The gateway's admin token as `npm run dev` gives it: ADMIN_TOKEN, the root .dev.vars, or the dev default. */
export function devAdminToken() {
  if (process.env.ADMIN_TOKEN) return process.env.ADMIN_TOKEN;
  try {
    const line = readFileSync(join(ROOT, '.dev.vars'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('ADMIN_TOKEN='));
    if (line) return line.slice('ADMIN_TOKEN='.length).trim().replace(/^"(.*)"$/, '$1');
  } catch {
    // no .dev.vars yet
  }
  return 'dev-admin-token';
}

/**
 * Fires each schedule at its next time, then the one after, until stopped. A run the gateway
 * refuses or cannot take (still starting) is logged and the schedule goes on.
 * @param {{ baseUrl: string, adminToken: string, schedules?: { service: string, cron: string }[], log?: (line: string) => void, now?: () => Date }} options
 * @returns {{ stop(): void, runs: { service: string, cron: string, status: number | string, at: string }[] }}
 */
export function startDevCrons({ baseUrl, adminToken, schedules = cronSchedules(), log = console.log, now = () => new Date() }) {
  const timers = new Set();
  const runs = [];
  let stopped = false;

  async function fire(service, cron) {
    const at = now().toISOString();
    let status;
    try {
      const response = await fetch(`${baseUrl}/_ops/crons/${service}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ cron }),
        signal: AbortSignal.timeout(30_000),
      });
      status = response.status;
      await response.body?.cancel();
    } catch (error) {
      status = error instanceof Error ? error.message : String(error);
    }
    runs.push({ service, cron, status, at });
    if (status === 200) log(`cron: ${service} "${cron}" ran at ${at}`);
    else log(`cron: ${service} "${cron}" did not run at ${at} (${status}); next on schedule`);
  }

  function arm(service, cron) {
    if (stopped) return;
    const delay = Math.max(0, nextFire(cron, now()).getTime() - now().getTime());
    const timer = setTimeout(() => {
      timers.delete(timer);
      arm(service, cron);
      void fire(service, cron);
    }, delay);
    timer.unref?.();
    timers.add(timer);
  }

  for (const { service, cron } of schedules) arm(service, cron);
  if (schedules.length > 0) log(`cron: firing ${schedules.map((s) => `${s.service} "${s.cron}"`).join(', ')} (UTC)`);
  return {
    runs,
    stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
