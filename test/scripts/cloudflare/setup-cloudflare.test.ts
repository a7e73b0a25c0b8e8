import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'smol-toml';
import { DeploySandbox } from '../../support/deploy-sandbox';

// `npm run setup:cloudflare` against the fake wrangler (test/support/fake-wrangler.mjs), on a
// temporary copy of the repository's config files: the whole first deploy, then a second run
// that changes nothing.

type Toml = { name: string; env: Record<string, { vars?: Record<string, string>; d1_databases?: { database_name: string; database_id: string }[] }> } & Record<string, unknown>;
const SERVICES = ['catalog', 'catalog-canary', 'ledger', 'notifications', 'orders', 'payments', 'users'];
const DATABASES = ['catalog', 'ledger', 'notifications', 'orders', 'payments', 'users'].map((s) => `stratus-${s}-staging`);

let sandbox: DeploySandbox;
beforeEach(() => {
  sandbox = new DeploySandbox();
});
afterEach(() => sandbox.remove());

const toml = (path: string) => parse(sandbox.read(path)) as unknown as Toml;
const staging = (path: string) => toml(path).env.staging!;

describe('npm run setup:cloudflare', { timeout: 180_000 }, () => {
  it('performs the whole first deploy of an environment from a clean checkout', async () => {
    const before = sandbox.configs();
    const { code, stdout, stderr } = await sandbox.run('setup-cloudflare.mjs', ['--env', 'staging']);
    expect(stderr).not.toMatch(/failed/);
    expect(code).toBe(0);
    const calls = sandbox.calls();
    const commands = calls.map((c) => c.command);
    const state = sandbox.state();

    // Logged in first; every database created once, the canary's shared with the catalog.
    expect(commands[0]).toBe('whoami');
    expect(calls.filter((c) => c.command === 'd1 create').map((c) => c.args[2]).sort()).toEqual([...DATABASES].sort());
    for (const db of DATABASES) {
      const { uuid } = state.databases.find((d) => d.name === db)!;
      const owner = db.replace(/^stratus-|-staging$/g, '');
      expect(staging(`workers/${owner}/wrangler.toml`).d1_databases![0]!.database_id).toBe(uuid);
    }
    expect(staging('workers/catalog-canary/wrangler.toml').d1_databases![0]).toEqual(staging('workers/catalog/wrangler.toml').d1_databases![0]);

    // Secrets, set once each in bulk, before anything is deployed; the private keys never printed.
    const gateway = state.workers['stratus-gateway-staging']!;
    const orders = state.workers['stratus-orders-staging']!;
    const users = state.workers['stratus-users-staging']!;
    expect(Object.keys(gateway.secrets).sort()).toEqual(['ADMIN_TOKEN', 'ALERT_WEBHOOK_SECRET', 'SERVICE_TOKEN_PRIVATE_JWK']);
    // The alert webhook's secret: a Standard Webhooks key (whsec_ + 32 random bytes), printed once for the receiver.
    const webhookSecret = gateway.secrets.ALERT_WEBHOOK_SECRET!;
    expect(Buffer.from(webhookSecret.replace(/^whsec_/, ''), 'base64')).toHaveLength(32);
    expect(stdout.split(webhookSecret)).toHaveLength(2);
    expect(Object.keys(orders.secrets)).toEqual(['SERVICE_TOKEN_PRIVATE_JWK']);
    expect(Object.keys(users.secrets)).toEqual(['ACCESS_TOKEN_PRIVATE_JWK']);
    // Payments' card fingerprint key: random, 32 bytes, and never printed.
    const fingerprintKey = state.workers['stratus-payments-staging']!.secrets.CARD_FINGERPRINT_KEY!;
    expect(Buffer.from(fingerprintKey, 'base64')).toHaveLength(32);
    expect(`${stdout}${stderr}`).not.toContain(fingerprintKey);
    const privateKeys = [gateway, orders, users].map((w) => JSON.parse(Object.values(w.secrets).find((s) => s.startsWith('{'))!) as { d: string; kid: string; x: string });
    for (const key of privateKeys) expect(`${stdout}${stderr}`).not.toContain(key.d);
    expect(gateway.secrets.SERVICE_TOKEN_PRIVATE_JWK).not.toBe(orders.secrets.SERVICE_TOKEN_PRIVATE_JWK);

    // The public halves, as vars: every service trusts exactly both signers, by issuer.
    const [gatewayKey, ordersKey, accessKey] = privateKeys;
    for (const service of SERVICES) {
      const trusted = JSON.parse(staging(`workers/${service}/wrangler.toml`).vars!.SERVICE_TOKEN_PUBLIC_JWKS!) as Record<string, { x: string; d?: string }[]>;
      expect(Object.keys(trusted).sort()).toEqual(['stratus-gateway', 'stratus-orders']);
      expect(trusted['stratus-gateway']![0]!.x).toBe(gatewayKey!.x);
      expect(trusted['stratus-orders']![0]!.x).toBe(ordersKey!.x);
      expect(trusted['stratus-gateway']![0]!.d).toBeUndefined();
    }
    expect(staging('workers/users/wrangler.toml').vars!.ACCESS_TOKEN_KID).toBe(accessKey!.kid);

    // Migrations before any deploy; workers in binding order; the gateway's URL recorded and
    // HOOKS_BASE_URL set to it on each consumer, which is deployed again with it.
    const firstDeploy = commands.indexOf('deploy');
    expect(commands.lastIndexOf('d1 migrations')).toBeLessThan(firstDeploy);
    expect(calls.filter((c) => c.command === 'd1 migrations').map((c) => c.args[3]).sort()).toEqual([...DATABASES].sort());
    expect(commands.lastIndexOf('secret bulk')).toBeLessThan(firstDeploy);
    const deployed = calls.filter((c) => c.command === 'deploy').map((c) => c.config);
    expect(deployed.slice(0, 8).at(-1)).toBe('wrangler.toml');
    expect(deployed.indexOf('workers/orders/wrangler.toml')).toBeGreaterThan(deployed.indexOf('workers/payments/wrangler.toml'));
    const url = 'https://stratus-gateway-staging.owner.workers.dev';
    expect(staging('wrangler.toml').vars!.GATEWAY_URL).toBe(url);
    for (const consumer of ['orders', 'catalog', 'catalog-canary', 'notifications']) {
      expect(staging(`workers/${consumer}/wrangler.toml`).vars!.HOOKS_BASE_URL).toBe(url);
      expect(state.workers[`stratus-${consumer}-staging`]!.deployedVars!.HOOKS_BASE_URL).toBe(url);
    }
    expect(calls.every((c) => c.command === 'whoami' || c.command === 'd1 list' || c.command === 'd1 create' || c.env === 'staging')).toBe(true);

    // QStash: not given, and said so; the first admin, its password shown once.
    expect(stdout).toMatch(/QStash: not configured, because QSTASH_TOKEN is not set/);
    expect(state.users['owner@example.com']!.roles).toEqual(['customer', 'admin']);
    expect(state.users['owner@example.com']!.passwordHash).toMatch(/^pbkdf2-sha256\$100000\$/);
    expect(stdout).toMatch(/admin login: owner@example\.com \/ \S{12,}/);
    expect(state.executed.some((e) => e.sql.includes('catalog.sql'))).toBe(false);

    // Only the staging sections changed: production and the top level (dev, tests) are as they were.
    for (const [path, text] of Object.entries(before)) {
      const was = parse(text) as unknown as Toml;
      const now = toml(path);
      expect(now.env.production).toEqual(was.env.production);
      expect({ ...now, env: undefined }).toEqual({ ...was, env: undefined });
    }
  });

  it('changes nothing when run again, and says so', async () => {
    expect((await sandbox.run('setup-cloudflare.mjs', ['--env', 'staging'])).code).toBe(0);
    const configs = sandbox.configs();
    const state = sandbox.state();
    sandbox.clearCalls();

    const { code, stdout } = await sandbox.run('setup-cloudflare.mjs', ['--env', 'staging']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/nothing changed: staging was already set up/);
    expect(stdout).not.toMatch(/admin login/);
    expect(sandbox.configs()).toEqual(configs);
    const after = sandbox.state();
    expect(after.databases).toEqual(state.databases);
    expect(after.workers).toEqual(state.workers);
    expect(new Set(sandbox.calls().map((c) => c.command))).toEqual(new Set(['whoami', 'd1 list', 'secret list', 'd1 execute']));
    expect(sandbox.calls().filter((c) => c.command === 'd1 execute').every((c) => c.args.some((a) => a.startsWith('SELECT')))).toBe(true);
  });

  it('finds databases that already exist instead of creating them, and seeds the demo catalog only when asked', async () => {
    sandbox.setState({ databases: [{ uuid: '3f2b8a1c-0d4e-4b5a-9c6d-7e8f9a0b1c2d', name: 'stratus-catalog-production' }] });
    const { code } = await sandbox.run('setup-cloudflare.mjs', ['--seed-demo'], { STRATUS_ADMIN_EMAIL: 'ops@example.com', STRATUS_ADMIN_PASSWORD: 'a-long-chosen-password' });
    expect(code).toBe(0);
    expect(sandbox.calls().filter((c) => c.command === 'd1 create').map((c) => c.args[2])).not.toContain('stratus-catalog-production');
    expect(toml('workers/catalog/wrangler.toml').env.production!.d1_databases![0]!.database_id).toBe('3f2b8a1c-0d4e-4b5a-9c6d-7e8f9a0b1c2d');
    expect(sandbox.calls().every((c) => c.env === null || c.env === 'production')).toBe(true);
    expect(sandbox.state().users['ops@example.com']).toBeDefined();
    expect(sandbox.state().executed.filter((e) => e.sql.endsWith('catalog.sql'))).toEqual([{ database: 'stratus-catalog-production', sql: expect.stringMatching(/scripts\/seed\/catalog\.sql$/) }]);
  });

  it('stops before changing anything when wrangler is not logged in, naming the fix', async () => {
    sandbox.setState({ loggedIn: false });
    const before = sandbox.configs();
    const { code, stderr } = await sandbox.run('setup-cloudflare.mjs', ['--env', 'staging']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/npx wrangler login/);
    expect(sandbox.calls().map((c) => c.command)).toEqual(['whoami']);
    expect(sandbox.configs()).toEqual(before);
  });

  it('refuses an unknown environment rather than deploying the top level', async () => {
    const { code, stderr } = await sandbox.run('setup-cloudflare.mjs', ['--env', 'prod']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/unknown environment "prod"/);
    expect(sandbox.calls()).toEqual([]);
  });
});
