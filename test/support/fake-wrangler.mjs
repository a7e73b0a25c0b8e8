#!/usr/bin/env node
// A stand-in for wrangler 4.86 for the deploy tooling's tests (WRANGLER=<this file>): it answers
// the commands the scripts use with the shapes the real wrangler prints (its --json outputs, and
// the entries it appends to WRANGLER_OUTPUT_FILE_PATH), keeps an account's state (databases,
// workers, secrets, versions, deployments) in the JSON file FAKE_WRANGLER_STATE, and appends each
// call to FAKE_WRANGLER_LOG as one JSON line: { args, command, env, config } (never a secret's value).
// FAKE_WRANGLER_STATE may preset { loggedIn: false } or { failCommand: "versions deploy" }.
// Each call is a Node process and a first deploy some 70 calls: on a loaded machine that takes a
// minute or more, hence the tests' generous timeouts.
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parse } from 'smol-toml';

const args = process.argv.slice(2);
const statePath = process.env.FAKE_WRANGLER_STATE;
const state = statePath && existsSync(statePath) ? JSON.parse(readFileSync(statePath, 'utf8')) : {};
state.databases ??= [];
state.workers ??= {};
state.users ??= {};
state.executed ??= [];
const save = () => statePath && writeFileSync(statePath, JSON.stringify(state, null, 2));

const flag = (name) => {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i === -1) return undefined;
  return args[i].includes('=') ? args[i].split('=').slice(1).join('=') : args[i + 1];
};
const positional = [];
for (let i = 0; i < args.length; i++) {
  if (args[i].startsWith('-')) {
    if (!args[i].includes('=') && !['--json', '--remote', '-y', '--yes', '--dry-run'].includes(args[i])) i++;
    continue;
  }
  positional.push(args[i]);
}
const command = positional.slice(0, 2).join(' ');
const configPath = flag('-c') ?? flag('--config');
const env = flag('--env');
const config = configPath ? parse(readFileSync(configPath, 'utf8')) : undefined;
const workerName = config ? (env ? `${config.name}-${env}` : String(config.name)) : undefined;
if (process.env.FAKE_WRANGLER_LOG) {
  appendFileSync(process.env.FAKE_WRANGLER_LOG, `${JSON.stringify({ args, command, env: env ?? null, config: configPath ? relative(process.cwd(), configPath) : null })}\n`);
}
const output = (entry) => process.env.WRANGLER_OUTPUT_FILE_PATH && appendFileSync(process.env.WRANGLER_OUTPUT_FILE_PATH, `${JSON.stringify({ version: 1, ...entry, timestamp: new Date().toISOString() })}\n`);
const fail = (message) => {
  console.error(`✘ [ERROR] ${message}`);
  process.exit(1);
};
const readStdin = () => readFileSync(0, 'utf8');
const now = () => new Date(Date.now() + (state.clock = (state.clock ?? 0) + 1)).toISOString();
const worker = () => {
  const found = state.workers[workerName];
  if (!found) fail(`Worker "${workerName}"${env ? ` (env: ${env})` : ''} not found.\n\nIf this is a new Worker, run \`wrangler deploy\` first to create it.`);
  return found;
};
const ensureWorker = () => (state.workers[workerName] ??= { secrets: {}, versions: [], deployments: [], deployedVars: null });
const newVersion = (w, source) => {
  const version = { id: randomUUID(), number: w.versions.length + 1, metadata: { created_on: now(), author_email: 'dev@example.com', source }, annotations: {}, vars: (env ? config.env?.[env]?.vars : config.vars) ?? {} };
  w.versions.push(version);
  return version;
};
const newDeployment = (w, versions, message) => {
  w.deployments.push({ id: randomUUID(), source: 'wrangler', strategy: 'percentage', author_email: 'dev@example.com', created_on: now(), annotations: message ? { 'workers/message': message } : {}, versions });
};

if (state.failCommand && command === state.failCommand) fail(`${command} failed (as the test asked)`);

switch (command) {
  case 'whoami':
    if (state.loggedIn === false) {
      if (args.includes('--json')) console.log(JSON.stringify({ loggedIn: false }));
      process.exit(1);
    }
    console.log(JSON.stringify({ loggedIn: true, authType: 'OAuth Token', email: 'owner@example.com', accounts: [{ id: 'acc0123456789', name: "Owner's Account" }], tokenPermissions: ['workers:write', 'd1:write'] }, null, 2));
    break;
  case 'd1 list':
    console.log(JSON.stringify(state.databases, null, 2));
    break;
  case 'd1 create': {
    const name = positional[2];
    if (state.databases.some((db) => db.name === name)) fail(`A database with that name already exists [code: 7502]`);
    const db = { uuid: randomUUID(), name, created_at: now(), version: 'production', num_tables: 0, file_size: 0 };
    state.databases.push(db);
    console.log(`✅ Successfully created DB '${name}' in region WEUR\nCreated your new D1 database.\n\nTo access your new D1 Database in your Worker, add the following snippet to your configuration file:\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "${name}"\ndatabase_id = "${db.uuid}"`);
    break;
  }
  case 'd1 migrations':
    if (!state.databases.some((db) => db.name === positional[3])) fail(`Couldn't find DB with name '${positional[3]}'`);
    console.log(`Migrations to be applied: none new for ${positional[3]}`);
    break;
  case 'd1 execute': {
    const name = positional[2];
    if (!state.databases.some((db) => db.name === name)) fail(`Couldn't find DB with name '${name}'`);
    const sql = flag('--command') ?? `file:${flag('--file')}`;
    state.executed.push({ database: name, sql });
    let results = [];
    const select = /^SELECT id FROM users WHERE email = '(.*)'$/.exec(sql);
    const insert = /^INSERT INTO users \(id, email, name, password_hash, roles\) VALUES \('([^']*)', '((?:[^']|'')*)', '[^']*', '([^']*)', '([^']*)'\)$/.exec(sql);
    if (select) results = state.users[select[1]] ? [{ id: state.users[select[1]].id }] : [];
    else if (insert) state.users[insert[2].replaceAll("''", "'")] = { id: insert[1], passwordHash: insert[3], roles: JSON.parse(insert[4]) };
    if (args.includes('--json')) console.log(JSON.stringify([{ results, success: true, meta: { changes: insert ? 1 : 0 } }], null, 2));
    else console.log('🚣 Executed commands');
    break;
  }
  case 'secret list':
    console.log(JSON.stringify(Object.keys(worker().secrets).map((name) => ({ name, type: 'secret_text' })), null, '  '));
    break;
  case 'secret bulk': {
    const values = JSON.parse(readStdin());
    const w = ensureWorker();
    for (const [name, value] of Object.entries(values)) w.secrets[name] = value;
    console.log(`🌀 Creating the secrets for the Worker "${workerName}"\n✨ ${Object.keys(values).length} secrets successfully uploaded`);
    break;
  }
  case 'deploy': {
    if (args.includes('--dry-run')) {
      console.log('--dry-run: exiting now.');
      break;
    }
    const w = ensureWorker();
    for (const binding of (env ? config.env?.[env]?.services : config.services) ?? []) {
      if (!state.workers[binding.service]?.deployments.length) fail(`could not resolve service binding '${binding.binding}'. Target script '${binding.service}' not found [code: 10143]`);
    }
    const version = newVersion(w, 'wrangler');
    newDeployment(w, [{ version_id: version.id, percentage: 100 }]);
    w.deployedVars = version.vars;
    const targets = config.workers_dev === false ? [] : [`https://${workerName}.owner.workers.dev`];
    console.log(`Uploaded ${workerName}\nDeployed ${workerName} triggers\n${targets.map((t) => `  ${t}\n`).join('')}Current Version ID: ${version.id}`);
    output({ type: 'deploy', worker_name: workerName, worker_tag: 'tag', version_id: version.id, targets, wrangler_environment: env, worker_name_overridden: false });
    break;
  }
  case 'versions upload': {
    const w = worker();
    const version = newVersion(w, 'wrangler');
    console.log(`Uploaded ${workerName}\nWorker Version ID: ${version.id}`);
    output({ type: 'version-upload', worker_name: workerName, worker_tag: 'tag', version_id: version.id, preview_url: undefined, wrangler_environment: env });
    break;
  }
  case 'versions list':
    console.log(JSON.stringify(worker().versions.map(({ vars, ...v }) => v), null, 2));
    break;
  case 'versions deploy': {
    const w = worker();
    const specs = positional.slice(2).map((spec) => {
      const [id, percent] = spec.split('@');
      if (!w.versions.some((v) => v.id === id)) fail(`Could not find version ${id}`);
      return { version_id: id, percentage: parseFloat(percent ?? '100') };
    });
    if (specs.length === 0 || specs.length > 2) fail('You must select at least 1 and at most 2 versions to deploy.');
    if (specs.reduce((sum, s) => sum + s.percentage, 0) !== 100) fail('Sum of specified percentages must be 100.');
    newDeployment(w, specs, flag('--message'));
    console.log(`SUCCESS  Deployed ${workerName} ${specs.map((s) => `version ${s.version_id} at ${s.percentage}%`).join(' and ')}`);
    output({ type: 'version-deploy', worker_name: workerName, deployment_id: w.deployments.at(-1).id, version_traffic: Object.fromEntries(specs.map((s) => [s.version_id, s.percentage])) });
    break;
  }
  case 'deployments list':
    console.log(JSON.stringify(worker().deployments, null, 2));
    break;
  default:
    fail(`the fake wrangler does not know "${args.join(' ')}"`);
}
save();
