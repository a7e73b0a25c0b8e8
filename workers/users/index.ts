import { durableChaosSource } from '../../shared/adapters/cloudflare/chaos-store';
import { addChaos } from '../../shared/middleware/chaos';
import { recordServiceRequestOf, serviceMetricsRoutes } from '../../shared/adapters/cloudflare/service-metrics';
import { d1ReadyCheck } from '../../shared/adapters/cloudflare/traced-d1';
import { SERVICE_METRICS_PATH } from '../../shared/middleware/health-paths';
import { addHealthRoutes, createServiceApp } from '../../shared/middleware/service-app';
import { signingKey } from './access-token';
import { usersConfig } from './config';
import type { UsersBindings } from './env';
import { jwksRoutes } from './jwks-routes';
import { tokenRoutes } from './token-routes';
import { userRoutes } from './user-routes';

/**
 * The users service: accounts, password login, ES256 access tokens and rotating refresh tokens,
 * in its own D1. Reached only through a service binding (workers_dev = false); the gateway maps
 * `/api/users/*` to `/*` here and `/.well-known/jwks.json` to the same path. Like every service it
 * answers only calls carrying the gateway's service token (shared/middleware/service-auth.ts).
 *
 * Secrets (passwords, access and refresh tokens) never reach a log line: the request line logs
 * the path, never the body, and handlers log only ids.
 */
const app = createServiceApp<UsersBindings>({ service: 'users', onComplete: recordServiceRequestOf, verifyServiceToken: true });
addChaos(app, (c) => durableChaosSource(c.env));

addHealthRoutes(app, (c) => ({
  db: d1ReadyCheck(c),
  // Not ready without a usable signing key: every login would fail.
  signingKey: async () => {
    await signingKey(usersConfig(c.env));
  },
}));

// Its RED metrics, read by the gateway's /metrics (service-metrics.ts).
app.route(SERVICE_METRICS_PATH, serviceMetricsRoutes);
app.route('/', jwksRoutes);
app.route('/', userRoutes);
app.route('/', tokenRoutes);

export default app;

export { ChaosStore } from '../../shared/adapters/cloudflare/chaos-store';
export { MetricsStore } from '../../shared/adapters/cloudflare/metrics-store';
