import type { GatewayBindings } from '../env';
import { platformOf } from '../platform';
import { runOriginHealthChecks, type OriginHealthSnapshot } from '../traffic/origin-health';
import { configuredPools } from '../traffic/origin-pool';

/**
 * The gateway's own scheduled work (its `[triggers] crons` in wrangler.toml; `npm run dev` fires
 * it through `POST /_ops/crons/gateway`): a `GET /health` to every HTTP origin of every pool, the
 * results stored in the health registry for every isolate (traffic/origin-health.ts). Run with no
 * origins configured it empties the registry, so nothing is kept for origins that are gone.
 */
export function runGatewayCron(env: GatewayBindings): Promise<OriginHealthSnapshot> {
  return runOriginHealthChecks(configuredPools(env), platformOf(env).originHealth);
}
