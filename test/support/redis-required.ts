import { it } from 'vitest';
import { hasRedisServer } from '../../scripts/redis-server.mjs';

/** Whether a redis-server is on PATH: suites that need one run only then (`describe.runIf`). */
export const redisAvailable = hasRedisServer();

const ci = process.env.CI;
const required = (ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false') || process.env.STRATUS_REQUIRE_REDIS === '1';

/**
 * A skipped suite is easy to mistake for a passing one, so a file whose suite needs redis-server
 * also registers this test, which always runs. Without redis-server it fails in CI (CI set, as CI
 * services do, or STRATUS_REQUIRE_REDIS=1, as .ci/run sets) and, elsewhere, shows as skipped with
 * the reason and prints a warning; it never passes quietly. `what` names the tests that need it.
 */
export function redisServerIsOnPath(what: string): void {
  it(`redis-server is on PATH (the ${what} need it; CI must have it)`, (ctx) => {
    if (redisAvailable) return;
    const why = `redis-server is not on PATH, so the ${what} did not run (Debian/Ubuntu: apt-get install redis-server)`;
    if (required) throw new Error(why);
    console.warn(`\n!!! ${why}\n`);
    ctx.skip(why);
  });
}
