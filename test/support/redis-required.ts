import { afterAll, beforeAll, it } from 'vitest';
import { hasRedisServer, startRedisServer, type RedisServer } from '../../scripts/redis-server.mjs';
import { startBridge, type UpstashBridge } from '../../scripts/upstash-redis-bridge.mjs';

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

/**
 * Inside a `describe.runIf(redisAvailable)`: a throwaway redis-server and the local Upstash REST
 * bridge in front of it (scripts/), started before the suite's tests and stopped after them.
 * `url` is the bridge's, for `new Redis({ url, token })`, once the suite has started.
 */
export function upstashBridgeForSuite(token: string): { readonly url: string } {
  let server: RedisServer | undefined;
  let bridge: UpstashBridge | undefined;
  beforeAll(async () => {
    server = await startRedisServer();
    bridge = await startBridge({ redisUrl: server.url, token });
  }, 20_000);
  afterAll(async () => {
    await bridge?.close();
    await server?.close();
  });
  return {
    get url() {
      if (!bridge) throw new Error('the Upstash bridge starts in beforeAll: read its url in a test or a later hook');
      return bridge.url;
    },
  };
}
