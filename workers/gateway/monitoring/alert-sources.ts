import { createLogger } from '../../../shared/observability/logger';
import { REQUEST_ID_HEADER } from '../../../shared/observability/request-id';
import { serviceTokenHeader } from '../auth/service-tokens';
import { gatewayConfig } from '../config';
import type { GatewayBindings } from '../env';
import { countDeadLetters } from '../ops/dead-letters';
import type { OpsTarget } from '../ops/ops-services';
import type { TotalsSources } from '../ops/suite-totals';
import { platformOf } from '../platform';
import { breakerSnapshots } from '../resilience/breakers';

const log = createLogger({ service: 'gateway', component: 'alerts' });

/**
 * The sources of `/metrics` as the alert evaluator reads them: the same objects and endpoints,
 * from the env instead of a request (it runs on its own alarm). Service calls carry an ops-scoped
 * service token and a request id of their own, so the services' logs show who asked.
 */
export function envSources(env: GatewayBindings, requestId: string): TotalsSources {
  return {
    gateway: () => env.METRICS.get(env.METRICS.idFromName('global')).snapshot(),
    breakers: () => breakerSnapshots(env, (upstream, error) => log.warn('breaker state unreadable for the alerts', { upstream, error })),
    serviceGet: async <T>(to: OpsTarget, path: string): Promise<T> => {
      const target = typeof to === 'string' ? { name: to.toLowerCase(), binding: to, audience: to.toLowerCase() } : to;
      const headers = new Headers({ [REQUEST_ID_HEADER]: requestId, ...(await serviceTokenHeader(env, { service: target.audience, identity: null, scope: 'ops' })) });
      const response = await platformOf(env).service(target.binding).fetch(
        new Request(`https://${target.name}.internal${path}`, { headers, signal: AbortSignal.timeout(gatewayConfig(env).READY_TIMEOUT_MS) }),
      );
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`${target.name} ${path} answered ${response.status}`);
      }
      return (await response.json()) as T;
    },
    deadLetters: () => countDeadLetters(env),
  };
}
