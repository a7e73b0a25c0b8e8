// Gradual rollout (`npm run deploy -- --gradual`) and rollback (`npm run rollback`), on
// Cloudflare's versions: a new version of every worker is uploaded without traffic, then all of
// them move together in steps (10%, 50%, 100% by default); between steps the gateway must answer
// /ready and its 5xx share (from /metrics) must stay under the limit, else every worker goes back
// to the version it ran before. Workers move together because a request crosses several of them:
// a step is the share of each worker's traffic that runs new code.
import { deploymentsOf, deployVersions, uploadVersion } from './deploy-steps.mjs';

/** The version that serves a worker now: the only one of its latest deployment, or undefined mid-rollout. */
export function currentVersion(deployments) {
  const latest = deployments.at(-1);
  if (!latest) return undefined;
  const full = latest.versions.find((v) => v.percentage === 100);
  return full?.version_id;
}

/**
 * Where a rollback goes: mid-rollout (two versions split), to the one that ran before the split;
 * otherwise to the latest earlier deployment's main version that is not the current one.
 */
export function previousVersion(deployments) {
  const latest = deployments.at(-1);
  if (!latest) return undefined;
  const current = new Set(latest.versions.map((v) => v.version_id));
  const earlier = deployments.slice(0, -1).reverse();
  if (current.size > 1) {
    for (const d of earlier) for (const v of d.versions) if (current.has(v.version_id) && v.percentage === 100) return v.version_id;
  }
  for (const d of earlier) {
    const main = [...d.versions].sort((a, b) => b.percentage - a.percentage)[0];
    if (main && !current.has(main.version_id)) return main.version_id;
  }
  return undefined;
}

/** Sums `http_requests_total` from Prometheus text: all, and those with a 5xx status. */
export function requestTotals(metricsText) {
  let total = 0;
  let errors = 0;
  for (const line of metricsText.split('\n')) {
    const match = /^http_requests_total\{([^}]*)\}\s+([0-9.e+]+)/.exec(line);
    if (!match) continue;
    const count = Number(match[2]);
    total += count;
    if (/status="5\d\d"/.test(match[1])) errors += count;
  }
  return { total, errors };
}

/**
 * Is the deployment healthy? /ready answers 200, and of the requests counted between `before` and
 * now at most `maxErrorRate` failed with a 5xx.
 * @returns {Promise<{ ok: boolean, reason?: string, totals?: { total: number, errors: number } }>}
 */
export async function checkHealth(gatewayUrl, before, maxErrorRate) {
  try {
    const ready = await fetch(`${gatewayUrl}/ready`, { signal: AbortSignal.timeout(10_000) });
    if (ready.status !== 200) return { ok: false, reason: `/ready answered ${ready.status}` };
    const metrics = await fetch(`${gatewayUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
    if (!metrics.ok) return { ok: false, reason: `/metrics answered ${metrics.status}` };
    const totals = requestTotals(await metrics.text());
    if (before) {
      const requests = totals.total - before.total;
      const errors = totals.errors - before.errors;
      if (requests > 0 && errors / requests > maxErrorRate) {
        return { ok: false, reason: `${errors} of ${requests} requests failed with a 5xx (${((100 * errors) / requests).toFixed(1)}%, over ${(100 * maxErrorRate).toFixed(1)}%)`, totals };
      }
    }
    return { ok: true, totals };
  } catch (error) {
    return { ok: false, reason: `the gateway did not answer: ${error.message}` };
  }
}

/**
 * @param {{ env: string, workers: import('./environments.mjs').EnvWorker[], gatewayUrl: string,
 *   steps: number[], holdMs: number, maxErrorRate: number, log?: (line: string) => void,
 *   wait?: (ms: number) => Promise<void> }} options
 * @returns {Promise<boolean>} true when every worker runs the new version, false after a rollback
 */
export async function gradualRollout({ env, workers, gatewayUrl, steps, holdMs, maxErrorRate, log = console.log, wait = (ms) => new Promise((r) => setTimeout(r, ms)) }) {
  const old = {};
  for (const worker of workers) {
    const deployments = await deploymentsOf(worker, env);
    const version = currentVersion(deployments);
    if (!version) {
      throw new Error(deployments.length === 0
        ? `${worker.worker} has never been deployed: a first deploy goes out at once (npm run deploy -- --env ${env}, without --gradual)`
        : `${worker.worker} is split between versions (a rollout did not finish): npm run rollback -- --env ${env} first`);
    }
    old[worker.name] = version;
  }
  const next = {};
  for (const worker of workers) {
    next[worker.name] = await uploadVersion(worker, env);
    log(`${worker.worker}: uploaded version ${next[worker.name]} (no traffic yet; ${old[worker.name]} serves)`);
  }
  let baseline = (await checkHealth(gatewayUrl, undefined, maxErrorRate)).totals;
  const moved = [];
  for (const percent of steps) {
    for (const worker of workers) {
      await deployVersions(worker, env, { [next[worker.name]]: percent, [old[worker.name]]: 100 - percent }, `gradual rollout: ${percent}%`);
      if (!moved.includes(worker)) moved.push(worker);
    }
    log(`every worker: ${percent}% on the new version; holding ${holdMs / 1000} s`);
    await wait(holdMs);
    const health = await checkHealth(gatewayUrl, baseline, maxErrorRate);
    if (!health.ok) {
      log(`unhealthy at ${percent}%: ${health.reason}; rolling back`);
      for (const worker of [...moved].reverse()) {
        await deployVersions(worker, env, { [old[worker.name]]: 100 }, `rollback: ${health.reason}`);
        log(`${worker.worker}: back on ${old[worker.name]}`);
      }
      return false;
    }
    baseline = health.totals;
  }
  return true;
}

/** Every worker back to the version it ran before its latest deployment (or before a split). */
export async function rollback({ env, workers, log = console.log }) {
  let changed = 0;
  for (const worker of [...workers].reverse()) {
    const deployments = await deploymentsOf(worker, env);
    const target = previousVersion(deployments);
    if (!target) {
      log(`${worker.worker}: no earlier version to return to; left as it is`);
      continue;
    }
    await deployVersions(worker, env, { [target]: 100 }, 'rollback');
    log(`${worker.worker}: back on ${target}`);
    changed++;
  }
  return changed;
}
