import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeploySandbox } from '../../support/deploy-sandbox';

// `npm run deploy` (scripts/deploy.mjs) against the fake wrangler, on copies of an environment
// that `npm run setup:cloudflare` set up: the preflight's refusals, each naming its fix, then
// gradual rollouts (one that completes, one rolled back) and `npm run rollback`.

let setUp: DeploySandbox;
const sandboxes: DeploySandbox[] = [];
const fresh = () => {
  const sandbox = setUp.clone();
  sandboxes.push(sandbox);
  return sandbox;
};

beforeAll(async () => {
  setUp = new DeploySandbox();
  const { code, stderr } = await setUp.run('setup-cloudflare.mjs', ['--env', 'staging']);
  if (code !== 0) throw new Error(`setup failed: ${stderr}`);
  setUp.clearCalls();
}, 240_000);
afterEach(() => {
  for (const sandbox of sandboxes.splice(0)) sandbox.remove();
});
afterAll(() => setUp.remove());

/** The commands that change something on Cloudflare. */
const writes = (sandbox: DeploySandbox) => sandbox.calls().filter((c) => !['secret list', 'deployments list', 'versions list', 'whoami', 'd1 list'].includes(c.command));

const edit = (sandbox: DeploySandbox, path: string, from: RegExp, to: string) => {
  const text = sandbox.read(path);
  expect(text).toMatch(from);
  sandbox.write(path, text.replace(from, to));
};

describe('npm run deploy: the preflight', { timeout: 180_000 }, () => {
  it('deploys an environment that passes it: migrations first, then every worker in binding order', async () => {
    const sandbox = fresh();
    const { code, stdout, stderr } = await sandbox.run('deploy.mjs', ['--env', 'staging']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/deployed 8 workers to staging/);
    // Deployed, but said: no legacy monolith behind the strangler fig.
    expect(stderr).toMatch(/warning: gateway: ORIGIN_POOLS in \[env.staging.vars\] names no legacy monolith/);
    const commands = writes(sandbox).map((c) => c.command);
    expect(commands).toEqual([...Array(6).fill('d1 migrations'), ...Array(8).fill('deploy')]);
    expect(writes(sandbox).at(-1)!.config).toBe('wrangler.toml');
  });

  it('keeps the dry run offline and on the top level unless an environment is named (CI runs it)', async () => {
    const sandbox = new DeploySandbox();
    sandboxes.push(sandbox);
    const top = await sandbox.run('deploy.mjs', ['--dry-run']);
    expect(top.code).toBe(0);
    const calls = sandbox.calls();
    expect(calls.map((c) => c.command)).toEqual(Array(8).fill('deploy'));
    for (const call of calls) expect(call.args).toEqual(expect.arrayContaining(['--dry-run', '--env', '']));
    sandbox.clearCalls();
    expect((await sandbox.run('deploy.mjs', ['--dry-run', '--env', 'staging'])).code).toBe(0);
    expect(sandbox.calls().every((c) => c.command === 'deploy' && c.env === 'staging' && c.args.includes('--dry-run'))).toBe(true);
  });

  it('refuses placeholder database ids (a clean checkout), changing nothing', async () => {
    const sandbox = new DeploySandbox();
    sandboxes.push(sandbox);
    const { code, stderr } = await sandbox.run('deploy.mjs', ['--env', 'production']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/deploy refused/);
    expect(stderr).toMatch(/D1 database stratus-users-production has the placeholder id/);
    expect(stderr).toMatch(/fix: run `npm run setup:cloudflare -- --env production`/);
    expect(writes(sandbox)).toEqual([]);
  });

  it('refuses a missing secret, naming the worker and the secret', async () => {
    const sandbox = fresh();
    const state = sandbox.state();
    delete state.workers['stratus-orders-staging']!.secrets.SERVICE_TOKEN_PRIVATE_JWK;
    sandbox.setState(state);
    const { code, stderr } = await sandbox.run('deploy.mjs', ['--env', 'staging']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/stratus-orders-staging: secret SERVICE_TOKEN_PRIVATE_JWK not set\n\s+fix: run `npm run setup:cloudflare -- --env staging`/);
    expect(writes(sandbox)).toEqual([]);
  });

  it('refuses a HOOKS_BASE_URL that is not the gateway\'s when QStash is used', async () => {
    const sandbox = fresh();
    for (const path of ['wrangler.toml', 'workers/orders/wrangler.toml', 'workers/payments/wrangler.toml', 'workers/notifications/wrangler.toml', 'workers/ledger/wrangler.toml']) {
      edit(sandbox, path, /\[env\.staging\.vars\]\n/, '[env.staging.vars]\nQSTASH_URL = "https://qstash.upstash.io"\n');
    }
    edit(sandbox, 'workers/notifications/wrangler.toml', /HOOKS_BASE_URL = "[^"]*"/, 'HOOKS_BASE_URL = "https://old-gateway.example"');
    const state = sandbox.state();
    for (const [name, worker] of Object.entries(state.workers)) {
      worker.secrets.QSTASH_TOKEN = 'token';
      worker.secrets.QSTASH_CURRENT_SIGNING_KEY = 'sig_current';
      worker.secrets.QSTASH_NEXT_SIGNING_KEY = `sig_next_${name}`;
    }
    sandbox.setState(state);
    const { code, stderr } = await sandbox.run('deploy.mjs', ['--env', 'staging', '--qstash-plan', 'payg']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/notifications: HOOKS_BASE_URL is "https:\/\/old-gateway\.example", not the gateway's https:\/\/stratus-gateway-staging\.owner\.workers\.dev/);
    expect(stderr).toMatch(/fix: run `npm run setup:cloudflare -- --env staging` \(it sets HOOKS_BASE_URL/);
    expect(stderr).not.toMatch(/orders: HOOKS_BASE_URL/);
    expect(writes(sandbox)).toEqual([]);
  });

  it('refuses a ledger rebuild slice that breaks Workers Free\'s D1 calls per invocation, unless the account is on Workers Paid', async () => {
    const sandbox = fresh();
    edit(sandbox, 'workers/ledger/wrangler.toml', /(\[env\.staging\.vars\][^[]*)LEDGER_REBUILD_PAGES_PER_SLICE = "20"/, '$1LEDGER_REBUILD_PAGES_PER_SLICE = "50"');
    const free = await sandbox.run('deploy.mjs', ['--env', 'staging']);
    expect(free.code).toBe(1);
    expect(free.stderr).toMatch(/LEDGER_REBUILD_PAGES_PER_SLICE = 50 makes a rebuild slice about 110 D1 calls, over Workers Free's 50 per invocation/);
    expect(free.stderr).toMatch(/fix: set LEDGER_REBUILD_PAGES_PER_SLICE to 20 or less in \[env\.staging\.vars\].*or pass --workers-plan paid/);
    expect(writes(sandbox)).toEqual([]);

    const paid = await sandbox.run('deploy.mjs', ['--env', 'staging', '--workers-plan', 'paid']);
    expect(paid.code).toBe(0);
  });

  it('refuses QStash Free for a topology of more URL groups than it allows, and traffic over its daily messages', async () => {
    const sandbox = fresh();
    for (const path of ['wrangler.toml', 'workers/orders/wrangler.toml', 'workers/payments/wrangler.toml', 'workers/notifications/wrangler.toml', 'workers/ledger/wrangler.toml']) {
      edit(sandbox, path, /\[env\.staging\.vars\]\n/, '[env.staging.vars]\nQSTASH_URL = "https://qstash.upstash.io"\n');
    }
    const { code, stderr } = await sandbox.run('deploy.mjs', ['--env', 'staging', '--orders-per-day', '500']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/QStash: the topology \(shared\/events\/topology\.json\) needs 3 URL groups \(order-events, payment-events, ledger-events\); QStash free allows 1/);
    expect(stderr).toMatch(/fix: move the QStash account to pay-as-you-go and pass --qstash-plan payg/);
    expect(stderr).toMatch(/QStash: 500 orders a day cost about 5000 messages \(10 each with this topology\); QStash free allows 1000 a day/);
    expect(stderr).toMatch(/secrets? QSTASH_TOKEN/);
    expect(writes(sandbox)).toEqual([]);
  });
});

/** A stand-in gateway for the rollout's health checks: /ready, and /metrics counting what `fail` says. */
function stubGateway() {
  const counts = { ok: 0, errors: 0 };
  let failAfterDeploys = Infinity;
  let readyCalls = 0;
  const server: Server = createServer((request, response) => {
    if (request.url === '/ready') {
      readyCalls++;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}');
      return;
    }
    if (request.url === '/metrics') {
      if (readyCalls > failAfterDeploys) counts.errors += 40;
      counts.ok += 100;
      response.writeHead(200, { 'content-type': 'text/plain' }).end(
        `# TYPE http_requests_total counter\nhttp_requests_total{service="catalog",route="catalog",method="GET",status="200"} ${counts.ok}\nhttp_requests_total{service="catalog",route="catalog",method="GET",status="503"} ${counts.errors}\n`,
      );
      return;
    }
    response.writeHead(404).end();
  });
  return {
    server,
    /** Errors appear in /metrics once /ready has been asked more than `n` times (1 = after the first step). */
    failAfter: (n: number) => (failAfterDeploys = n),
    start: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
  };
}

describe('npm run deploy -- --gradual, and npm run rollback', { timeout: 240_000 }, () => {
  const gateway = stubGateway();
  let url: string;
  beforeAll(async () => {
    url = await gateway.start();
  });
  afterAll(() => new Promise<void>((resolve) => gateway.server.close(() => resolve())));

  const pointAtStub = (sandbox: DeploySandbox) => edit(sandbox, 'wrangler.toml', /GATEWAY_URL = "[^"]*"/, `GATEWAY_URL = "${url}"`);
  const latest = (sandbox: DeploySandbox, worker: string) => sandbox.state().workers[worker]!.deployments.at(-1)!.versions;

  it('uploads a version of every worker, shifts traffic in steps, and ends with all on the new version', async () => {
    const sandbox = fresh();
    pointAtStub(sandbox);
    const before = sandbox.state().workers['stratus-gateway-staging']!.versions.length;
    const { code, stdout, stderr } = await sandbox.run('deploy.mjs', ['--env', 'staging', '--gradual', '--steps', '25,100', '--hold-seconds', '0']);
    // The one line allowed: the sandbox's staging has no legacy monolith behind the strangler fig.
    expect(stderr.split('\n').filter((line) => line !== '' && !line.startsWith('warning: gateway: ORIGIN_POOLS'))).toEqual([]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/every worker of staging runs the new version/);
    const calls = writes(sandbox);
    expect(calls.filter((c) => c.command === 'versions upload')).toHaveLength(8);
    expect(calls.filter((c) => c.command === 'deploy')).toHaveLength(0);
    const steps = calls.filter((c) => c.command === 'versions deploy' && c.config === 'wrangler.toml').map((c) => c.args.filter((a) => a.includes('@')));
    const state = sandbox.state();
    const versions = state.workers['stratus-gateway-staging']!.versions;
    expect(versions).toHaveLength(before + 1);
    const [old, next] = [versions.at(-2)!.id, versions.at(-1)!.id];
    expect(steps).toEqual([[`${next}@25%`, `${old}@75%`], [`${next}@100%`]]);
    for (const worker of Object.keys(state.workers)) expect(latest(sandbox, worker)).toEqual([{ version_id: state.workers[worker]!.versions.at(-1)!.id, percentage: 100 }]);

    // npm run rollback: every worker back on the version before.
    sandbox.clearCalls();
    const back = await sandbox.run('rollback.mjs', ['--env', 'staging']);
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(/rolled back 8 workers of staging/);
    expect(latest(sandbox, 'stratus-gateway-staging')).toEqual([{ version_id: old, percentage: 100 }]);
    expect(writes(sandbox)[0]!.config).toBe('wrangler.toml');
  });

  it('rolls every worker back when the gateway\'s error rate rises after a step', async () => {
    const sandbox = fresh();
    pointAtStub(sandbox);
    const olds = Object.fromEntries(Object.entries(sandbox.state().workers).map(([name, w]) => [name, w.deployments.at(-1)!.versions[0]!.version_id]));
    gateway.failAfter(1);
    const { code, stdout, stderr } = await sandbox.run('deploy.mjs', ['--env', 'staging', '--gradual', '--steps', '10,50,100', '--hold-seconds', '0']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/unhealthy at 10%: 40 of 140 requests failed with a 5xx/);
    expect(stderr).toMatch(/every worker is back on its previous version/);
    const steps = writes(sandbox).filter((c) => c.command === 'versions deploy' && c.config === 'wrangler.toml');
    expect(steps).toHaveLength(2);
    for (const [name, old] of Object.entries(olds)) expect(latest(sandbox, name)).toEqual([{ version_id: old, percentage: 100 }]);
  });

  it('refuses a gradual rollout of an environment never deployed, before uploading anything', async () => {
    const sandbox = fresh();
    pointAtStub(sandbox);
    const state = sandbox.state();
    state.workers['stratus-ledger-staging']!.deployments = [];
    sandbox.setState(state);
    const { code, stderr } = await sandbox.run('deploy.mjs', ['--env', 'staging', '--gradual', '--hold-seconds', '0']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/stratus-ledger-staging has never been deployed: a first deploy goes out at once/);
    expect(writes(sandbox).filter((c) => c.command.startsWith('versions'))).toEqual([]);
  });
});
