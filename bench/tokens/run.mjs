#!/usr/bin/env node
// `npm run bench:tokens`: what a service token costs per upstream call (the gateway signs one,
// the service verifies it), before and after tokens were reused and remembered, in one run, in
// Node. "Before" is shared/security/service-token.ts as it was at the last commit without that
// memory (taken from git and bundled beside today's), so both run on this machine, this Node and
// this jose. Recorded as a ratio in bench/RESULTS.md (`## Service tokens`), never asserted.
//   BENCH_ROUNDS (5), BENCH_TOKEN_CALLS (2,000 calls per round for the slow path; 100× for the fast)
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../scripts/workers.mjs';
import { positiveKnob } from '../lib/env-knob.mjs';
import { importTypeScript } from '../lib/import-typescript.mjs';
import { codeNote, writeSection } from '../lib/results-file.mjs';
import { fixed, median } from '../lib/stats.mjs';
import { generateSigningKeyPair } from '../../scripts/dev-keys.mjs';

const FILE = 'shared/security/service-token.ts';
const rounds = positiveKnob('BENCH_ROUNDS', 5, { integer: true });
const slowCalls = positiveKnob('BENCH_TOKEN_CALLS', 2_000, { integer: true });

const git = (...args) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
// The commit that brought the memory in; "before" is its parent.
const introduced = git('log', '-1', '--format=%H', '-S', 'SERVICE_TOKEN_REUSE_SECONDS', '--', FILE);
if (!introduced) throw new Error(`no commit brought SERVICE_TOKEN_REUSE_SECONDS into ${FILE}`);
const beforeCommit = git('rev-parse', '--short', `${introduced}^`);
const beforeDir = join(ROOT, '.wrangler', 'bench-tokens-before');
mkdirSync(beforeDir, { recursive: true });
writeFileSync(join(beforeDir, 'service-token.ts'), git('show', `${beforeCommit}:${FILE}`));

const before = await importTypeScript('.wrangler/bench-tokens-before/service-token.ts', 'bench-tokens-before-build');
const after = await importTypeScript(FILE, 'bench-tokens-after-build');
const keys = await generateSigningKeyPair('bench-tokens');

/** One upstream call's token work: the gateway signs for (catalog, this user), the catalog verifies. */
function callOf(module) {
  const signer = new module.ServiceTokenSigner(keys.privateJwk);
  const verifier = new module.ServiceTokenVerifier([keys.publicJwk], 'catalog');
  // requestId is what the old signer put in the token; the new one has no such claim and ignores it.
  const claims = { service: 'catalog', userId: 'usr_bench', roles: ['customer'], requestId: 'bench' };
  return async () => {
    const claimsSeen = await verifier.verify(await signer.sign(claims));
    if (claimsSeen.userId !== 'usr_bench') throw new Error('the token did not round-trip');
  };
}

async function microsPerCall(call, calls) {
  for (let i = 0; i < Math.min(calls, 200); i++) await call(); // warm-up: key import, JIT
  const perRound = [];
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) await call();
    perRound.push(Number(process.hrtime.bigint() - start) / 1_000 / calls);
  }
  return median(perRound);
}

const load = os.loadavg()[0];
const beforeUs = await microsPerCall(callOf(before), slowCalls);
const afterUs = await microsPerCall(callOf(after), slowCalls * 100);
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const section = `## Service tokens

Per upstream call, the gateway signs a service token and the service verifies it (ES256,
\`${FILE}\`). Before: a fresh signature and a full verification every call (commit
${beforeCommit}). After: the signer hands out the token it signed for the same (audience, user,
roles, scope) for 30 s and the verifier remembers a verified token until it expires, so a call
in the steady state is two map lookups. Same machine, same run: ${cpu}, ${os.cpus().length} cores,
Node ${process.version}; 1-min load average ${load.toFixed(2)} before the run; ${codeNote()}.
Median of ${rounds} rounds (${slowCalls} calls a round before, ${slowCalls * 100} after).
\`npm run bench:tokens\`.

| path | µs per call |
| --- | --- |
| before: sign + verify every call | ${fixed(beforeUs, 2)} |
| after: reused and remembered | ${fixed(afterUs, 3)} |

After ÷ before: **${fixed(afterUs / beforeUs, 4)}** (${fixed(beforeUs / afterUs, 0)}× less per call). A
token is signed again at most every 30 s per (audience, user, roles, scope) and verified in full
once per isolate per token: that cost is spread over every call in between. The gateway's
memory of verified access tokens is the same mechanism (one verification per token per isolate).
`;
writeSection(join(ROOT, 'bench', 'RESULTS.md'), section);
console.log(section);
