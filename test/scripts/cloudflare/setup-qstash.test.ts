import { Client } from '@upstash/qstash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'smol-toml';
import { startQStashServer, type QStashServer } from '../../../scripts/qstash-server.mjs';
import { DeploySandbox } from '../../support/deploy-sandbox';

// `npm run setup:cloudflare` with QSTASH_TOKEN, against the fake wrangler and the local
// QStash-compatible server standing in for Upstash's: QStash's secrets and vars, its topology
// delivering to the environment's gateway, and a second environment refused on the same QStash.

const TOKEN = 'qstash-test-token';
let qstash: QStashServer;
let sandbox: DeploySandbox;
beforeAll(async () => {
  qstash = await startQStashServer({ token: TOKEN, currentSigningKey: 'sig_current_test', nextSigningKey: 'sig_next_test' });
  sandbox = new DeploySandbox();
});
afterAll(async () => {
  await qstash.close();
  sandbox.remove();
});

const env = () => ({ QSTASH_TOKEN: TOKEN, QSTASH_URL: qstash.url });

describe('npm run setup:cloudflare with QStash', { timeout: 240_000 }, () => {
  it('sets the token and signing keys, QSTASH_URL and the topology, delivering to the gateway', async () => {
    const { code, stdout, stderr } = await sandbox.run('setup-cloudflare.mjs', ['--env', 'staging', '--qstash-plan', 'payg'], env());
    expect(stderr).not.toMatch(/failed|refused/);
    expect(code).toBe(0);
    const state = sandbox.state();
    for (const name of ['gateway', 'orders', 'payments', 'notifications', 'ledger']) {
      expect(state.workers[`stratus-${name}-staging`]!.secrets.QSTASH_TOKEN).toBe(TOKEN);
      const config = parse(sandbox.read(name === 'gateway' ? 'wrangler.toml' : `workers/${name}/wrangler.toml`)) as { env: Record<string, { vars: Record<string, string> }> };
      expect(config.env.staging!.vars.QSTASH_URL).toBe(qstash.url);
    }
    for (const name of ['orders', 'catalog', 'catalog-canary', 'notifications']) {
      expect(state.workers[`stratus-${name}-staging`]!.secrets).toMatchObject({ QSTASH_CURRENT_SIGNING_KEY: 'sig_current_test', QSTASH_NEXT_SIGNING_KEY: 'sig_next_test' });
    }
    expect(`${stdout}${stderr}`).not.toContain(TOKEN);
    const groups = await new Client({ baseUrl: qstash.url, token: TOKEN, devMode: false, enableTelemetry: false }).urlGroups.list();
    const orderEvents = groups.find((g) => g.name === 'order-events')!;
    expect(orderEvents.endpoints.map((e) => e.url).sort()).toEqual(
      ['catalog', 'notifications', 'order-summaries'].map((c) => `https://stratus-gateway-staging.owner.workers.dev/hooks/${c}`),
    );

    const again = await sandbox.run('setup-cloudflare.mjs', ['--env', 'staging', '--qstash-plan', 'payg'], env());
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/nothing changed: staging was already set up/);
  });

  it('refuses to set up a second environment on the same QStash, before changing anything, leaving the first one\'s URL groups alone', async () => {
    const { code, stderr } = await sandbox.run('setup-cloudflare.mjs', ['--env', 'production', '--qstash-plan', 'payg'], env());
    expect(code).toBe(1);
    expect(stderr).toMatch(/already delivers URL group \w+-events to staging .*Give production its own QStash token/);
    const groups = await new Client({ baseUrl: qstash.url, token: TOKEN, devMode: false, enableTelemetry: false }).urlGroups.list();
    for (const group of groups) for (const endpoint of group.endpoints) expect(endpoint.url).toMatch(/^https:\/\/stratus-gateway-staging\./);
    // Refused before it changed anything: no database made, no secret set, nothing deployed for production.
    expect(Object.keys(sandbox.state().workers).filter((name) => name.endsWith('-production'))).toEqual([]);
    expect(sandbox.state().databases.filter((db) => db.name.endsWith('-production'))).toEqual([]);
  });

  it('refuses QStash Free for this topology before making anything', async () => {
    const fresh = new DeploySandbox();
    try {
      const { code, stderr } = await fresh.run('setup-cloudflare.mjs', ['--env', 'staging'], env());
      expect(code).toBe(1);
      expect(stderr).toMatch(/needs 3 URL groups .* QStash free allows 1/);
      expect(fresh.calls().map((c) => c.command)).toEqual(['whoami']);
    } finally {
      fresh.remove();
    }
  });
});
