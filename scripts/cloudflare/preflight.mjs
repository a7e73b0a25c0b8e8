// What `npm run deploy` checks before it changes anything: each refusal says what is wrong and the
// command that fixes it. Nothing here writes.
import { readTopology } from '../qstash-setup.mjs';
import { isPlaceholderDatabaseId } from './environments.mjs';
import { maxRebuildPages, messagesPerOrder, QSTASH_PLANS, rebuildSliceCalls, WORKERS_PLANS } from './plan-limits.mjs';
import { secretNames } from './secrets.mjs';
import { QSTASH_CONSUMERS, requiredSecrets } from './worker-needs.mjs';

/** The plans and traffic a deployment is checked against: flags, else environment variables, else the free plans. */
export function planOptions(argv, environment = process.env) {
  const pick = (flag, variable, fallback) => {
    const index = argv.findIndex((a) => a === `--${flag}` || a.startsWith(`--${flag}=`));
    if (index !== -1) return argv[index].includes('=') ? argv[index].split('=')[1] : argv[index + 1];
    return environment[variable] || fallback;
  };
  const workersPlan = pick('workers-plan', 'STRATUS_WORKERS_PLAN', 'free');
  const qstashPlan = pick('qstash-plan', 'STRATUS_QSTASH_PLAN', 'free');
  if (!(workersPlan in WORKERS_PLANS)) throw new Error(`unknown Workers plan "${workersPlan}": --workers-plan ${Object.keys(WORKERS_PLANS).join(' or ')}`);
  if (!(qstashPlan in QSTASH_PLANS)) throw new Error(`unknown QStash plan "${qstashPlan}": --qstash-plan ${Object.keys(QSTASH_PLANS).join(' or ')}`);
  const ordersPerDay = Number(pick('orders-per-day', 'STRATUS_ORDERS_PER_DAY', '50'));
  return { workersPlan, qstashPlan, ordersPerDay };
}

const trimSlash = (url) => String(url ?? '').replace(/\/+$/, '');

/**
 * @param {{ env: string, workers: import('./environments.mjs').EnvWorker[], workersPlan: string,
 *   qstashPlan: string, ordersPerDay: number, ids?: boolean, secrets?: boolean, hooks?: boolean, qstash?: boolean }} options
 *   `ids: false`, `secrets: false` and `hooks: false` skip those checks (setup checks the plans
 *   first, before it has made databases, secrets or a gateway URL); `qstash` says whether QStash
 *   is used when the vars do not say it yet.
 * @returns {Promise<{ problem: string, fix: string }[]>}
 */
export async function preflight({ env, workers, workersPlan, qstashPlan, ordersPerDay, ids = true, secrets = true, hooks = true, qstash: usesQStash }) {
  const problems = [];
  const setup = `npm run setup:cloudflare -- --env ${env}`;
  const gateway = workers.find((w) => w.name === 'gateway');
  const qstash = usesQStash ?? Boolean(gateway?.vars.QSTASH_URL);

  for (const worker of ids ? workers : []) {
    for (const db of worker.d1) {
      if (isPlaceholderDatabaseId(db.database_id)) {
        problems.push({ problem: `${worker.name}: D1 database ${db.database_name} has the placeholder id ${db.database_id} in ${worker.configPath}`, fix: `run \`${setup}\` (it finds or creates the database and records its id)` });
      }
    }
  }

  if (secrets) {
    for (const worker of workers) {
      const have = new Set(await secretNames(worker.configPath, env));
      const missing = requiredSecrets(worker.name, { qstash, alertWebhook: Boolean(gateway?.vars.ALERT_WEBHOOK_URL) }).filter((name) => !have.has(name));
      if (missing.length > 0) {
        problems.push({ problem: `${worker.worker}: secret${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not set`, fix: `run \`${setup}\` (it sets every missing secret)` });
      }
    }
  }

  if (qstash && hooks) {
    const url = trimSlash(gateway?.vars.GATEWAY_URL);
    for (const worker of workers.filter((w) => QSTASH_CONSUMERS.includes(w.name))) {
      const hooksBase = trimSlash(worker.vars.HOOKS_BASE_URL);
      if (!url) {
        problems.push({ problem: `${worker.name}: the gateway's URL is not recorded (GATEWAY_URL in [env.${env}.vars] of wrangler.toml), so HOOKS_BASE_URL cannot be checked`, fix: `run \`${setup}\`, which deploys the gateway and records its URL` });
        break;
      }
      if (hooksBase !== url) {
        problems.push({ problem: `${worker.name}: HOOKS_BASE_URL is ${hooksBase ? `"${hooksBase}"` : 'not set'}, not the gateway's ${url}: QStash would deliver elsewhere, or every signature check would fail`, fix: `run \`${setup}\` (it sets HOOKS_BASE_URL to the gateway's URL everywhere)` });
      }
    }
  }

  const ledger = workers.find((w) => w.name === 'ledger');
  const pages = Number(ledger?.vars.LEDGER_REBUILD_PAGES_PER_SLICE ?? 50);
  const calls = WORKERS_PLANS[workersPlan].d1CallsPerInvocation;
  if (ledger && rebuildSliceCalls(pages) > calls) {
    problems.push({
      problem: `ledger: LEDGER_REBUILD_PAGES_PER_SLICE = ${pages} makes a rebuild slice about ${rebuildSliceCalls(pages)} D1 calls, over Workers ${workersPlan === 'free' ? 'Free' : 'Paid'}'s ${calls} per invocation`,
      fix: `set LEDGER_REBUILD_PAGES_PER_SLICE to ${maxRebuildPages(calls)} or less in [env.${env}.vars] of ${ledger.configPath}${workersPlan === 'free' ? ', or pass --workers-plan paid if the account is on Workers Paid' : ''}`,
    });
  }

  if (qstash) {
    const topology = readTopology();
    const limits = QSTASH_PLANS[qstashPlan];
    const groups = Object.keys(topology.topics);
    if (groups.length > limits.urlGroups) {
      problems.push({
        problem: `QStash: the topology (shared/events/topology.json) needs ${groups.length} URL groups (${groups.join(', ')}); QStash ${qstashPlan} allows ${limits.urlGroups}`,
        fix: 'move the QStash account to pay-as-you-go and pass --qstash-plan payg, or deploy without QStash (remove QSTASH_URL from the environment\'s vars: events then wait in the outboxes)',
      });
    }
    const perDay = ordersPerDay * messagesPerOrder(topology);
    if (perDay > limits.messagesPerDay) {
      problems.push({
        problem: `QStash: ${ordersPerDay} orders a day cost about ${perDay} messages (${messagesPerOrder(topology)} each with this topology); QStash ${qstashPlan} allows ${limits.messagesPerDay} a day`,
        fix: `pass --qstash-plan payg with a pay-as-you-go QStash, or a lower --orders-per-day (at most ${Math.floor(limits.messagesPerDay / messagesPerOrder(topology))} on this plan)`,
      });
    }
  }
  return problems;
}

/**
 * What a deploy goes ahead with but says: a gateway whose ORIGIN_POOLS names no legacy monolith,
 * so the strangler fig has no fallback (`/` and every path no route claims answer 404).
 * @param {{ env: string, workers: import('./environments.mjs').EnvWorker[] }} options
 * @returns {string[]}
 */
export function preflightWarnings({ env, workers }) {
  const gateway = workers.find((w) => w.name === 'gateway');
  if (!gateway) return [];
  let pools = {};
  try {
    pools = JSON.parse(gateway.vars.ORIGIN_POOLS || '{}');
  } catch {
    return [`gateway: ORIGIN_POOLS in [env.${env}.vars] is not JSON; the gateway will refuse to start with it`];
  }
  if (Array.isArray(pools?.legacy) && pools.legacy.length > 0) return [];
  return [
    `gateway: ORIGIN_POOLS in [env.${env}.vars] names no legacy monolith, so / and every path no route claims answer 404; to put one behind the strangler fig: ORIGIN_POOLS = '{"legacy":[{"name":"monolith","url":"https://…"}]}'`,
  ];
}

/** Prints the refusals and exits 1 when there are any. */
export function refuseOn(problems, what = 'deploy', log = console.error) {
  if (problems.length === 0) return;
  log(`${what} refused: ${problems.length} problem${problems.length > 1 ? 's' : ''}, nothing was changed`);
  for (const { problem, fix } of problems) log(`  - ${problem}\n    fix: ${fix}`);
  process.exit(1);
}
