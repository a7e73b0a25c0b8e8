// Signing keys for local development, made once by `npm run dev` and kept in the git-ignored
// .dev.vars files (never committed). Service tokens: each signer (the gateway in the root
// .dev.vars, the orders service in workers/orders/.dev.vars) holds its private key; every
// service's .dev.vars holds the public keys derived from them, per issuer, so they always match,
// even after someone deletes one file.
import { webcrypto } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT, serviceWorkers } from './workers.mjs';

/** A fresh ES256 key pair as JWKs, both carrying `kid` and `alg`. */
export async function generateSigningKeyPair(kid) {
  const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const privateJwk = { ...(await webcrypto.subtle.exportKey('jwk', pair.privateKey)), kid, alg: 'ES256' };
  return { privateJwk, publicJwk: publicPart(privateJwk) };
}

/** The public half of an EC private JWK. */
export function publicPart({ kty, crv, x, y, kid, alg }) {
  return { kty, crv, x, y, kid, alg, use: 'sig' };
}

/** Reads KEY=value lines (as wrangler's dotenv reader does for what we write: single-quoted JSON). */
export function readDevVar(file, name) {
  if (!existsSync(file)) return undefined;
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${name}=`));
  if (!line) return undefined;
  return line.slice(name.length + 1).replace(/^'(.*)'$/, '$1');
}

/** Sets KEY='value' in a .dev.vars file, replacing an existing line or appending one. */
export function writeDevVar(file, name, value) {
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
  const entry = `${name}='${value}'`;
  const index = lines.findIndex((l) => l.startsWith(`${name}=`));
  if (index === -1) {
    if (lines.length && lines.at(-1) === '') lines.pop();
    lines.push(entry, '');
  } else {
    lines[index] = entry;
  }
  writeFileSync(file, lines.join('\n'));
}

/**
 * Who signs service tokens, and where its private key lives: the gateway (every call it forwards)
 * and the orders service (its saga calls catalog and payments on its own account). A signer's
 * folder that does not exist yet is skipped.
 */
const SIGNERS = [
  { issuer: 'stratus-gateway', dir: ROOT },
  { issuer: 'stratus-orders', dir: join(ROOT, 'workers', 'orders') },
];

/** Makes sure every signer has a service-token key and every service trusts exactly their public halves. */
export async function ensureServiceTokenKeys({ log = console.log } = {}) {
  const trusted = {};
  for (const signer of SIGNERS) {
    if (!existsSync(signer.dir)) continue;
    const file = join(signer.dir, '.dev.vars');
    let privateText = readDevVar(file, 'SERVICE_TOKEN_PRIVATE_JWK');
    if (!privateText) {
      const { privateJwk } = await generateSigningKeyPair(`${signer.issuer}-dev-${new Date().toISOString().slice(0, 10)}`);
      privateText = JSON.stringify(privateJwk);
      writeDevVar(file, 'SERVICE_TOKEN_PRIVATE_JWK', privateText);
      log(`${relative(ROOT, file) || '.dev.vars'}: generated the ${signer.issuer} service-token signing key (local only, git-ignored)`);
    }
    trusted[signer.issuer] = [publicPart(JSON.parse(privateText))];
  }
  const publicJwks = JSON.stringify(trusted);
  for (const service of serviceWorkers()) {
    const file = join(service.dir, '.dev.vars');
    if (readDevVar(file, 'SERVICE_TOKEN_PUBLIC_JWKS') === publicJwks) continue;
    writeDevVar(file, 'SERVICE_TOKEN_PUBLIC_JWKS', publicJwks);
    log(`${relative(ROOT, file)}: trusts the service-token keys of ${Object.keys(trusted).join(' and ')}`);
  }
}

// `node scripts/dev-keys.mjs new <kid>`: a fresh pair for a real deployment, printed once:
// the private JWK for `wrangler secret put SERVICE_TOKEN_PRIVATE_JWK` (on the gateway, or on
// orders for its own key), the public half for SERVICE_TOKEN_PUBLIC_JWKS (every service; an object
// `{"stratus-gateway":[...],"stratus-orders":[...]}` when both sign).
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href && process.argv[2] === 'new') {
  const { privateJwk, publicJwk } = await generateSigningKeyPair(process.argv[3] ?? `key-${Date.now()}`);
  console.log(`SERVICE_TOKEN_PRIVATE_JWK (secret, gateway):\n${JSON.stringify(privateJwk)}\n`);
  console.log(`SERVICE_TOKEN_PUBLIC_JWKS (every service):\n${JSON.stringify([publicJwk])}`);
}
