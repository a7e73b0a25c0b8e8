import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readDevVar } from '../../scripts/dev-keys.mjs';
import { ensureQStashDevVars } from '../../scripts/qstash/dev-qstash.mjs';
import { LOCAL_QSTASH_TOKEN } from '../../scripts/qstash/local-credentials.mjs';

// What `npm run dev` writes into each worker's .dev.vars for the local QStash, on a folder of its
// own (never the developer's real .dev.vars files).

let dir: string;
const file = () => join(dir, '.dev.vars');
const run = () => ensureQStashDevVars({ dirs: [dir], log: () => {} });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stratus-dev-qstash-'));
  vi.stubEnv('PORT', '');
  vi.stubEnv('QSTASH_PORT', '');
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

describe('ensureQStashDevVars', () => {
  it('adds the local QStash URL, token, signing keys and the gateway base URL where missing', () => {
    writeFileSync(file(), "LOG_LEVEL=info\n");
    run();
    expect(readDevVar(file(), 'QSTASH_URL')).toBe('http://127.0.0.1:8080');
    expect(readDevVar(file(), 'QSTASH_TOKEN')).toBe(LOCAL_QSTASH_TOKEN);
    expect(readDevVar(file(), 'QSTASH_CURRENT_SIGNING_KEY')).toBeTruthy();
    expect(readDevVar(file(), 'QSTASH_NEXT_SIGNING_KEY')).toBeTruthy();
    expect(readDevVar(file(), 'HOOKS_BASE_URL')).toBe('http://127.0.0.1:8787');
    expect(readDevVar(file(), 'LOG_LEVEL')).toBe('info');
  });

  it('moves a loopback HOOKS_BASE_URL and QSTASH_URL to the ports in use now', () => {
    run();
    vi.stubEnv('PORT', '8788');
    vi.stubEnv('QSTASH_PORT', '8081');
    run();
    expect(readDevVar(file(), 'HOOKS_BASE_URL')).toBe('http://127.0.0.1:8788');
    expect(readDevVar(file(), 'QSTASH_URL')).toBe('http://127.0.0.1:8081');
  });

  it('keeps URLs that point elsewhere and credentials someone put there', () => {
    const real = ["QSTASH_URL='https://qstash.invalid'", "QSTASH_TOKEN='real-token'", "HOOKS_BASE_URL='https://gateway.invalid'", ''].join('\n');
    writeFileSync(file(), real);
    vi.stubEnv('PORT', '8788');
    run();
    expect(readDevVar(file(), 'QSTASH_URL')).toBe('https://qstash.invalid');
    expect(readDevVar(file(), 'QSTASH_TOKEN')).toBe('real-token');
    expect(readDevVar(file(), 'HOOKS_BASE_URL')).toBe('https://gateway.invalid');
  });

  it('changes nothing when run again with the same ports', () => {
    run();
    const first = readFileSync(file(), 'utf8');
    run();
    expect(readFileSync(file(), 'utf8')).toBe(first);
  });
});
