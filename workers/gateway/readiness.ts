import type { Context } from 'hono';
import type { AppEnv } from '../../shared/middleware/app-env';
import { withPropagation } from '../../shared/observability/propagation';
import type { CheckResult, ReadinessCheck } from '../../shared/observability/readiness';
import type { GatewayBindings } from './env';
import { routes } from './routes';

class ServiceNotReady extends Error {
  constructor(
    message: string,
    readonly checks: Record<string, CheckResult>,
  ) {
    super(message);
  }
}

/**
 * One readiness check per service behind the gateway: its `/ready` over the binding, which in
 * turn checks the service's own D1. The service's per-dependency results are kept, so the
 * gateway's answer names the database that is down (`catalog.db`), not just the service.
 */
export function serviceChecks(c: Context<AppEnv<GatewayBindings>>): Record<string, ReadinessCheck> {
  const checks: Record<string, ReadinessCheck> = {};
  for (const route of routes) {
    if (checks[route.name]) continue;
    checks[route.name] = async (signal) => {
      const headers = withPropagation(new Headers(), c.get('requestId'), c.get('trace'));
      const response = await c.env[route.service].fetch(new Request(`https://${route.name}.internal/ready`, { headers, signal }));
      const body = (await response.json().catch(() => ({}))) as { checks?: Record<string, CheckResult> };
      if (!response.ok) throw new ServiceNotReady(`/ready answered ${response.status}`, body.checks ?? {});
      return body.checks ?? {};
    };
  }
  return checks;
}
