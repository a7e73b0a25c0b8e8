/** Where every worker answers liveness and readiness (`addHealthRoutes` in service-app.ts). */
export const HEALTH_PATHS = { live: '/health', ready: '/ready' } as const;
