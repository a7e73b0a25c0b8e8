/** Where every worker answers liveness and readiness (`addHealthRoutes` in service-app.ts). */
export const HEALTH_PATHS = { live: '/health', ready: '/ready' } as const;

/** Where every service answers its own metric totals to the gateway (shared/adapters/cloudflare/service-metrics.ts). */
export const SERVICE_METRICS_PATH = '/_metrics';
