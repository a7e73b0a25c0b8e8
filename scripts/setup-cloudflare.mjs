#!/usr/bin/env node
// `npm run setup:cloudflare [-- --env staging|production] [--seed-demo]`: the whole first deploy
// of one environment (production unless --env says otherwise), and safe to run again: each step
// first looks at what is there and changes only what is missing, and a run that finds everything
// in place says so and changes nothing.
//
//   1. wrangler whoami: logged in (`npx wrangler login`, or CLOUDFLARE_API_TOKEN)?
//   2. each service's D1 database, found (`d1 list --json`) or created (`d1 create`); its id
//      recorded in the [env.<env>] section of that worker's wrangler.toml (the canary shares the
//      catalog's);
//   3. the signing keys (access tokens; the gateway's and the orders service's service tokens),
//      generated where a worker lacks its secret, set with `wrangler secret bulk` on stdin, never
//      printed; their public halves written as vars (SERVICE_TOKEN_PUBLIC_JWKS, ACCESS_TOKEN_KID);
//      ADMIN_TOKEN; QStash's token and signing keys when QSTASH_TOKEN is given; the alert
//      webhook's secret (ALERT_WEBHOOK_URL too when given) and the synthetic user's credentials
//      when SYNTHETIC_EMAIL and SYNTHETIC_PASSWORD are given;
//   4. remote migrations, then every worker in binding order; the gateway's URL recorded
//      (GATEWAY_URL) and HOOKS_BASE_URL set to it on every consumer (which are deployed again);
//   5. the QStash topology (qstash:setup) when QSTASH_TOKEN is given;
//   6. the first admin account (STRATUS_ADMIN_EMAIL, else the Cloudflare login's email; its
//      password STRATUS_ADMIN_PASSWORD, else a new one printed once); with --seed-demo, the demo catalog.
import { Client } from '@upstash/qstash';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { generateSigningKeyPair, publicPart } from './dev-keys.mjs';
import { applyRemoteMigrations, deployWorkers } from './cloudflare/deploy-steps.mjs';
import { ENVIRONMENTS, environmentFrom, environmentWorkers } from './cloudflare/environments.mjs';
import { ensureFirstAdmin } from './cloudflare/first-admin.mjs';
import { planOptions, preflight, refuseOn } from './cloudflare/preflight.mjs';
import { putSecrets, secretNames } from './cloudflare/secrets.mjs';
import { editConfig, setDatabaseId, setEnvVar } from './cloudflare/toml-edit.mjs';
import { QSTASH_CONSUMERS, QSTASH_PUBLISHERS, SERVICE_TOKEN_SIGNERS } from './cloudflare/worker-needs.mjs';
import { copyGatewayAssets } from './gateway-assets.mjs';
import { setupQStash } from './qstash-setup.mjs';
import { callWrangler } from './wrangler-cli.mjs';
import { ROOT } from './workers.mjs';

const argv = process.argv.slice(2);
const log = console.log;
const env = environmentFrom(argv);
const plans = planOptions(argv);
/** What this run changed, in words; empty at the end means the environment was already set up. */
const changes = [];
const changed = (what) => {
  changes.push(what);
  log(`  changed: ${what}`);
};
const relative = (path) => path.slice(ROOT.length + 1);

async function main() {
  log(`setting up the ${env} environment on Cloudflare`);

  // 1. Who are we?
  let account;
  try {
    account = JSON.parse((await callWrangler(['whoami', '--json'], { capture: true })).stdout);
  } catch {
    account = { loggedIn: false };
  }
  if (!account.loggedIn) {
    console.error('not logged in to Cloudflare: run `npx wrangler login` (or set CLOUDFLARE_API_TOKEN), then run this again');
    process.exit(1);
  }
  log(`logged in as ${account.email ?? 'an API token'} (${(account.accounts ?? []).map((a) => a.name).join(', ')})`);

  // QStash, when given: checked now, so a token that cannot serve this environment stops the run
  // before anything changed.
  const qstash = await qstashSettings();
  if (qstash) await refuseAnotherEnvironmentsQStash(qstash);
  // The account's plans, before anything is made: a setting they cannot run is refused up front.
  refuseOn(await preflight({ env, workers: environmentWorkers(env), ...plans, ids: false, secrets: false, hooks: false, qstash: Boolean(qstash) }), 'setup');

  // 2. Databases.
  let workers = environmentWorkers(env);
  const listDatabases = async () => JSON.parse((await callWrangler(['d1', 'list', '--json'], { capture: true })).stdout);
  let databases = await listDatabases();
  for (const name of new Set(workers.flatMap((w) => w.d1.map((db) => db.database_name)))) {
    let found = databases.find((db) => db.name === name);
    if (!found) {
      await callWrangler(['d1', 'create', name], { quiet: true });
      databases = await listDatabases();
      found = databases.find((db) => db.name === name);
      if (!found) throw new Error(`wrangler d1 create ${name} succeeded but d1 list does not show it`);
      changed(`created D1 database ${name} (${found.uuid})`);
    }
    for (const worker of workers.filter((w) => w.d1.some((db) => db.database_name === name))) {
      if (editConfig(worker.configPath, (text) => setDatabaseId(text, name, found.uuid))) changed(`${relative(worker.configPath)}: ${name} is ${found.uuid}`);
    }
  }
  workers = environmentWorkers(env);

  // 3. Keys, secrets and the public vars.
  const byName = Object.fromEntries(workers.map((w) => [w.name, w]));
  const services = workers.filter((w) => w.name !== 'gateway');
  /** @type {Record<string, Record<string, string>>} secrets to set, per worker */
  const toSet = {};
  const setSecret = (worker, name, value) => ((toSet[worker] ??= {})[name] = value);
  const have = {};
  for (const worker of workers) have[worker.name] = new Set(await secretNames(worker.configPath, env));
  const date = new Date().toISOString().slice(0, 10);

  const users = byName.users;
  if (!have.users.has('ACCESS_TOKEN_PRIVATE_JWK') || !users.vars.ACCESS_TOKEN_KID) {
    const { privateJwk } = await generateSigningKeyPair(`stratus-users-${env}-${date}`);
    setSecret('users', 'ACCESS_TOKEN_PRIVATE_JWK', JSON.stringify(privateJwk));
    editConfig(users.configPath, (text) => setEnvVar(text, env, 'ACCESS_TOKEN_KID', privateJwk.kid));
    changed(`users: new access-token signing key ${privateJwk.kid} (secret set, kid in ${relative(users.configPath)})`);
  }

  // Service tokens: what the services trust now, per issuer; a signer without its secret, or not
  // trusted, gets a new pair (its old public half, if any, is replaced: nothing could sign with it).
  let trusted = {};
  try {
    trusted = JSON.parse(services[0].vars.SERVICE_TOKEN_PUBLIC_JWKS ?? '{}');
  } catch {
    trusted = {};
  }
  for (const [signer, issuer] of Object.entries(SERVICE_TOKEN_SIGNERS)) {
    if (have[signer].has('SERVICE_TOKEN_PRIVATE_JWK') && Array.isArray(trusted[issuer]) && trusted[issuer].length > 0) continue;
    const { privateJwk } = await generateSigningKeyPair(`${issuer}-${env}-${date}`);
    setSecret(signer, 'SERVICE_TOKEN_PRIVATE_JWK', JSON.stringify(privateJwk));
    trusted = { ...trusted, [issuer]: [publicPart(privateJwk)] };
    changed(`${signer}: new service-token signing key ${privateJwk.kid}`);
  }
  const trustedText = JSON.stringify(trusted);
  for (const service of services) {
    if (editConfig(service.configPath, (text) => setEnvVar(text, env, 'SERVICE_TOKEN_PUBLIC_JWKS', trustedText))) changed(`${relative(service.configPath)}: SERVICE_TOKEN_PUBLIC_JWKS`);
  }

  let adminToken;
  if (!have.gateway.has('ADMIN_TOKEN')) {
    adminToken = process.env.ADMIN_TOKEN || randomBytes(24).toString('base64url');
    setSecret('gateway', 'ADMIN_TOKEN', adminToken);
    changed('gateway: ADMIN_TOKEN set');
  }

  // Alerts (docs/alerts.md): ALERT_WEBHOOK_URL, when given, becomes the gateway's var; the secret
  // that signs every notification is ALERT_WEBHOOK_SECRET when given, else a new one printed once
  // (the receiver needs it to verify). The synthetic user's credentials, when given as
  // SYNTHETIC_EMAIL and SYNTHETIC_PASSWORD (an account made for it), become the gateway's secrets.
  if (process.env.ALERT_WEBHOOK_URL && editConfig(byName.gateway.configPath, (text) => setEnvVar(text, env, 'ALERT_WEBHOOK_URL', process.env.ALERT_WEBHOOK_URL))) {
    changed(`${relative(byName.gateway.configPath)}: ALERT_WEBHOOK_URL`);
  }
  if (!have.gateway.has('ALERT_WEBHOOK_SECRET')) {
    const secret = process.env.ALERT_WEBHOOK_SECRET || `whsec_${randomBytes(32).toString('base64')}`;
    setSecret('gateway', 'ALERT_WEBHOOK_SECRET', secret);
    if (!process.env.ALERT_WEBHOOK_SECRET) log(`  the alert webhook's signing secret (give it to the receiver; shown once): ${secret}`);
    changed('gateway: ALERT_WEBHOOK_SECRET set');
  }
  for (const name of ['SYNTHETIC_EMAIL', 'SYNTHETIC_PASSWORD']) {
    if (process.env[name] && !have.gateway.has(name)) {
      setSecret('gateway', name, process.env[name]);
      changed(`gateway: ${name} set`);
    }
  }

  // The key of payments' card fingerprints (an HMAC, so a fingerprint cannot be reversed by
  // trying every card number): random, never printed, never rotated by a second run (a new key
  // would give every stored card a new fingerprint).
  if (!have.payments.has('CARD_FINGERPRINT_KEY')) {
    setSecret('payments', 'CARD_FINGERPRINT_KEY', randomBytes(32).toString('base64'));
    changed('payments: CARD_FINGERPRINT_KEY set');
  }

  if (qstash) {
    for (const name of QSTASH_PUBLISHERS) {
      if (!have[name].has('QSTASH_TOKEN')) {
        setSecret(name, 'QSTASH_TOKEN', qstash.token);
        changed(`${name}: QSTASH_TOKEN set`);
      }
      if (editConfig(byName[name].configPath, (text) => setEnvVar(text, env, 'QSTASH_URL', qstash.url))) changed(`${relative(byName[name].configPath)}: QSTASH_URL`);
    }
    for (const name of QSTASH_CONSUMERS) {
      for (const [secret, value] of [['QSTASH_CURRENT_SIGNING_KEY', qstash.current], ['QSTASH_NEXT_SIGNING_KEY', qstash.next]]) {
        if (!have[name].has(secret)) {
          setSecret(name, secret, value);
          changed(`${name}: ${secret} set`);
        }
      }
    }
  }
  for (const [name, values] of Object.entries(toSet)) {
    log(`${byName[name].worker}: setting ${Object.keys(values).join(', ')} (wrangler secret bulk)`);
    await putSecrets(byName[name].configPath, env, values);
  }
  workers = environmentWorkers(env);

  // 4. Deploy, when this is the first deploy or something above changed.
  const gateway = () => workers.find((w) => w.name === 'gateway');
  if (changes.length > 0 || !gateway()?.vars.GATEWAY_URL) {
    refuseOn(await preflight({ env, workers, ...plans, hooks: false }), 'setup');
    await applyRemoteMigrations(workers, env);
    copyGatewayAssets();
    const { gatewayUrl } = await deployWorkers(workers, env);
    if (!gatewayUrl) throw new Error('wrangler deploy did not report the gateway\'s URL: is workers.dev enabled for the account (a workers.dev subdomain chosen in the dashboard)?');
    if (editConfig(gateway().configPath, (text) => setEnvVar(text, env, 'GATEWAY_URL', gatewayUrl))) changed(`gateway: GATEWAY_URL is ${gatewayUrl}`);
    const moved = [];
    for (const name of QSTASH_CONSUMERS) {
      if (editConfig(byName[name].configPath, (text) => setEnvVar(text, env, 'HOOKS_BASE_URL', gatewayUrl))) moved.push(name);
    }
    workers = environmentWorkers(env);
    if (moved.length > 0) {
      changed(`HOOKS_BASE_URL is ${gatewayUrl} for ${moved.join(', ')}`);
      await deployWorkers(workers.filter((w) => moved.includes(w.name)), env);
    }
  } else {
    log('every worker is deployed and configured: nothing to deploy (`npm run deploy -- --env ' + env + '` ships new code)');
  }

  // 5. QStash's topics and queues.
  const hooksBaseUrl = gateway()?.vars.GATEWAY_URL;
  if (qstash && hooksBaseUrl) {
    const summary = await setupQStash({ url: qstash.url, token: qstash.token, hooksBaseUrl });
    for (const [topic, { added, removed }] of Object.entries(summary.topics)) if (added.length || removed.length) changed(`QStash URL group ${topic}`);
    for (const [queue, state] of Object.entries(summary.queues)) if (state !== 'unchanged') changed(`QStash queue ${queue} ${state}`);
  } else if (!qstash) {
    log([
      'QStash: not configured, because QSTASH_TOKEN is not set. The suite runs without it, but events',
      'stay in each service\'s outbox: no notifications, no order summaries, no mails. To add it, run',
      `  QSTASH_TOKEN=<token from console.upstash.com> npm run setup:cloudflare -- --env ${env}`,
      '(QSTASH_URL too when it is not https://qstash.upstash.io).',
    ].join('\n'));
  }

  // 6. The first admin, and the demo catalog when asked.
  const email = process.env.STRATUS_ADMIN_EMAIL || account.email || 'admin@example.com';
  const admin = await ensureFirstAdmin({ usersWorker: workers.find((w) => w.name === 'users'), env, email, password: process.env.STRATUS_ADMIN_PASSWORD });
  if (admin.created) {
    changed(`admin account ${email} created`);
    if (admin.password) log(`\n  admin login: ${email} / ${admin.password}\n  (shown once, keep it now; change it by registering another admin or in D1)\n`);
  } else log(`admin account ${email} exists`);
  if (adminToken && !process.env.ADMIN_TOKEN) log(`\n  ADMIN_TOKEN for /_ops: ${adminToken}\n  (shown once, keep it now; \`npx wrangler secret put ADMIN_TOKEN --env ${env}\` replaces it)\n`);

  if (argv.includes('--seed-demo')) {
    const catalog = workers.find((w) => w.name === 'catalog');
    await callWrangler(['d1', 'execute', catalog.d1[0].database_name, '--remote', '--file', join(ROOT, 'scripts', 'seed', 'catalog.sql'), '-c', catalog.configPath, '--env', env], { quiet: true });
    log('demo catalog seeded (existing products are kept)');
  }

  log(changes.length === 0
    ? `nothing changed: ${env} was already set up`
    : `${env} is set up (${changes.length} change${changes.length > 1 ? 's' : ''}); gateway: ${gateway()?.vars.GATEWAY_URL}`);
}

/**
 * URL groups are named by topic, so two environments on one QStash account would share them, and
 * qstash:setup would replace the other environment's endpoints with this one's. Refused instead:
 * each environment needs its own QStash (its own Upstash account, or none).
 */
async function refuseAnotherEnvironmentsQStash({ url, token }) {
  const others = ENVIRONMENTS.filter((e) => e !== env).flatMap((other) => {
    const gatewayUrl = environmentWorkers(other).find((w) => w.name === 'gateway')?.vars.GATEWAY_URL;
    return gatewayUrl ? [{ other, gatewayUrl: gatewayUrl.replace(/\/+$/, '') }] : [];
  });
  if (others.length === 0) return;
  const client = new Client({ baseUrl: url, token, devMode: false, enableTelemetry: false });
  for (const group of await client.urlGroups.list()) {
    for (const endpoint of group.endpoints ?? []) {
      const taken = others.find(({ gatewayUrl }) => endpoint.url.startsWith(`${gatewayUrl}/`));
      if (taken) {
        console.error(`QStash at ${url} already delivers URL group ${group.name} to ${taken.other} (${endpoint.url}): one QStash serves one environment, or both would share its URL groups. Give ${env} its own QStash token (another Upstash account), or none.`);
        process.exit(1);
      }
    }
  }
}

/** QStash's URL, token and signing keys, from the environment (the keys fetched with the token when not given); undefined without a token. */
async function qstashSettings() {
  const token = process.env.QSTASH_TOKEN;
  if (!token) return undefined;
  const url = (process.env.QSTASH_URL || 'https://qstash.upstash.io').replace(/\/+$/, '');
  let current = process.env.QSTASH_CURRENT_SIGNING_KEY;
  let next = process.env.QSTASH_NEXT_SIGNING_KEY;
  if (!current || !next) {
    const response = await fetch(`${url}/v2/keys`, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`QStash at ${url} refused GET /v2/keys (${response.status}): check QSTASH_TOKEN, or give QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY`);
    ({ current, next } = await response.json());
  }
  return { url, token, current, next };
}

main().catch((error) => {
  console.error(`setup failed: ${error.message}`);
  process.exit(1);
});
