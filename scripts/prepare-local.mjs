// Everything `npm run dev` (and the benchmarks) need before the workers start: local secrets,
// D1 migrations and demo data. Each step is idempotent, so running it again changes nothing.
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { copyFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ensureServiceTokenKeys, readDevVar, writeDevVar } from './dev-keys.mjs';
import { ensureQStashDevVars } from './qstash/dev-qstash.mjs';
import { wrangler } from './run.mjs';
import { PERSIST_DIR, ROOT, serviceWorkers } from './workers.mjs';

export async function prepareLocal({ log = console.log } = {}) {
  // wrangler reads .dev.vars beside each config: the root one for the gateway, workers/<s>/ for a service.
  for (const dir of [ROOT, ...serviceWorkers().map((service) => service.dir)]) {
    const example = join(dir, '.dev.vars.example');
    const devVars = join(dir, '.dev.vars');
    if (existsSync(example) && !existsSync(devVars)) {
      copyFileSync(example, devVars);
      log(`created ${relative(ROOT, devVars) || '.dev.vars'} from its .dev.vars.example`);
    }
  }
  await ensureServiceTokenKeys({ log });
  await ensureAccessTokenKey({ log });
  ensureCardFingerprintKey({ log });
  ensureSyntheticUser({ log });
  // Publishers and consumers of events: the local QStash's URL and credentials, and the gateway's
  // base URL that deliveries go to (HOOKS_BASE_URL/hooks/<consumer>).
  ensureQStashDevVars({ log });

  // A database two workers share (the catalog and its canary: two versions of one service) is
  // prepared once, by the first worker that names it (folders in name order: `catalog` first).
  const prepared = new Map();
  for (const service of serviceWorkers()) {
    for (const db of service.d1) {
      const owner = prepared.get(db.database_name);
      if (owner) {
        log(`${service.name}: shares local D1 ${db.database_name} with ${owner}, already prepared`);
        continue;
      }
      prepared.set(db.database_name, service.name);
      log(`${service.name}: applying migrations to local D1 ${db.database_name}`);
      await wrangler(['d1', 'migrations', 'apply', db.database_name, '--local', '--persist-to', PERSIST_DIR, '-c', service.configPath]);
      const seed = join(ROOT, 'scripts', 'seed', `${service.name}.sql`);
      if (existsSync(seed)) {
        log(`${service.name}: seeding demo data (INSERT OR IGNORE: existing rows are kept)`);
        await wrangler(['d1', 'execute', db.database_name, '--local', '--persist-to', PERSIST_DIR, '-c', service.configPath, '--file', seed]);
      }
    }
  }
}

/**
 * The payments worker's card-fingerprint key (CARD_FINGERPRINT_KEY, workers/payments/.dev.vars,
 * git-ignored): random once, never replaced, so a card keeps its fingerprint across restarts.
 */
function ensureCardFingerprintKey({ log }) {
  const dir = join(ROOT, 'workers', 'payments');
  if (!existsSync(join(dir, 'wrangler.toml'))) return;
  const devVars = join(dir, '.dev.vars');
  if (readDevVar(devVars, 'CARD_FINGERPRINT_KEY')) return;
  writeDevVar(devVars, 'CARD_FINGERPRINT_KEY', randomBytes(32).toString('base64url'));
  log(`${relative(ROOT, devVars)}: generated the card-fingerprint key (local only, git-ignored)`);
}

/**
 * The synthetic user's credentials (the gateway's cron signs in as them every minute): the seeded
 * demo user, added to a .dev.vars made before the check existed. An empty value keeps it off.
 */
function ensureSyntheticUser({ log }) {
  const devVars = join(ROOT, '.dev.vars');
  if (readDevVar(devVars, 'SYNTHETIC_EMAIL') !== undefined) return;
  writeDevVar(devVars, 'SYNTHETIC_EMAIL', 'demo@example.com');
  writeDevVar(devVars, 'SYNTHETIC_PASSWORD', 'demo-password-123');
  log('.dev.vars: the synthetic check signs in as the seeded demo user (SYNTHETIC_EMAIL, SYNTHETIC_PASSWORD)');
}

/** RFC 7638 thumbprint of an EC public key: a kid that names exactly this key. */
const thumbprint = ({ crv, kty, x, y }) => createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');

/**
 * The users worker's access-token signing key for local development: an ES256 (P-256) key pair
 * made once with Node's WebCrypto into workers/users/.dev.vars (git-ignored, never committed).
 * Only what is missing is added: a key already there is never replaced, so access tokens issued
 * earlier keep verifying across restarts. Delete both lines to get a new key.
 */
async function ensureAccessTokenKey({ log }) {
  const dir = join(ROOT, 'workers', 'users');
  if (!existsSync(join(dir, 'wrangler.toml'))) return;
  const devVars = join(dir, '.dev.vars');
  let privateText = readDevVar(devVars, 'ACCESS_TOKEN_PRIVATE_JWK');
  if (!privateText) {
    const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const { kty, crv, x, y, d } = await webcrypto.subtle.exportKey('jwk', pair.privateKey);
    privateText = JSON.stringify({ kty, crv, x, y, d });
    writeDevVar(devVars, 'ACCESS_TOKEN_PRIVATE_JWK', privateText);
    log(`${relative(ROOT, devVars)}: generated the access-token signing key (local only, git-ignored)`);
  }
  if (!readDevVar(devVars, 'ACCESS_TOKEN_KID')) {
    writeDevVar(devVars, 'ACCESS_TOKEN_KID', `dev-${thumbprint(JSON.parse(privateText)).slice(0, 16)}`);
    log(`${relative(ROOT, devVars)}: named the access-token key (ACCESS_TOKEN_KID)`);
  }
}
