import type { Context } from 'hono';
import type { AppEnv } from '../../../shared/middleware/app-env';
import { HEALTH_PATHS } from '../../../shared/middleware/service-app';
import { tracedCall } from '../../../shared/observability/client-span';
import { withPropagation } from '../../../shared/observability/propagation';
import type { CheckResult, ReadinessCheck } from '../../../shared/observability/readiness';
import type { GatewayBindings } from '../env';
import { platformOf } from '../platform';
import { serviceTargets, type ServiceTarget } from '../traffic/route-versions';
import { serviceTokenHeader } from '../auth/service-tokens';

class ServiceNotReady extends Error {
  constructor(
    message: string,
    readonly checks: Record<string, CheckResult>,
  ) {
    super(message);
  }
}

/**
 * Public answers name what is down, not why: an exception's text can carry internal addresses or
 * SQL. The reason goes to the log line (with the request id), where operators look.
 */
const publicResults = (service: string, checks: Record<string, CheckResult>): Record<string, CheckResult> =>
  Object.fromEntries(
    Object.entries(checks).map(([name, result]) => [name, result.status === 'up' ? { status: 'up' } : { status: 'down', error: `reported down by ${service}` }]),
  );

/**
 * One readiness check per service behind the gateway: its `/ready` over the binding, which in
 * turn checks the service's own D1. The service's per-dependency results are kept, so the
 * gateway's answer names the database that is down (`catalog.db`), not just the service.
 */
export function serviceChecks(c: Context<AppEnv<GatewayBindings>>, targets: ServiceTarget[] = serviceTargets()): Record<string, ReadinessCheck> {
  const checks: Record<string, ReadinessCheck> = {};
  // Every service worker once, versions included (`catalog-canary`): a canary that cannot serve is not ready.
  for (const { name, binding, audience } of targets) {
    checks[name] = async (signal) => {
      const headers = withPropagation(new Headers(), c.get('requestId'), c.get('trace'));
      for (const [header, value] of Object.entries(await serviceTokenHeader(c.env, { service: audience, identity: null }))) {
        headers.set(header, value);
      }
      let response: Response;
      try {
        response = await tracedCall(
          c.get('telemetry').tracer,
          c.get('trace'),
          headers,
          () => ({ name: `GET ${name}`, attributes: { 'http.request.method': 'GET', 'url.path': HEALTH_PATHS.ready, 'upstream.service': name } }),
          () => platformOf(c.env).service(binding).fetch(new Request(`https://${name}.internal${HEALTH_PATHS.ready}`, { headers, signal })),
        );
      } catch (error) {
        c.get('log').warn('readiness: service unreachable', { upstream: name, error });
        throw new Error('unreachable');
      }
      const body = (await response.json().catch(() => ({}))) as { checks?: Record<string, CheckResult> };
      if (!response.ok) {
        c.get('log').warn('readiness: service not ready', { upstream: name, status: response.status, checks: body.checks });
        throw new ServiceNotReady(`not ready (${response.status})`, publicResults(name, body.checks ?? {}));
      }
      return publicResults(name, body.checks ?? {});
    };
  }
  return checks;
}
