import { createLogger } from '../../../shared/observability/logger';
import type { GatewayBindings } from '../env';
import { isolateRecorder } from '../ops/metrics';
import { platformOf } from '../platform';
import { runOriginHealthChecks, type OriginHealthSnapshot } from '../traffic/origin-health';
import { configuredPools } from '../traffic/origin-pool';
import { monitoringConfig } from './monitoring-config';
import { runSyntheticCheck, type SyntheticCheckResult } from './synthetic-check';
import { SYNTHETIC_BUCKETS_SECONDS } from './synthetic-metrics';

type GatewayFetch = (request: Request, env: GatewayBindings, ctx: ExecutionContext) => Response | Promise<Response>;

const log = createLogger({ service: 'gateway', component: 'cron' });

/**
 * The gateway app's own fetch, handed over by index.ts once at start-up (this module is imported
 * by the app's routes, so it cannot import the app itself).
 */
let gatewayFetch: GatewayFetch | undefined;
export function serveSyntheticChecksWith(fetch: GatewayFetch): void {
  gatewayFetch = fetch;
}

export interface GatewayCronResult {
  /** The HTTP origins' health checks, as stored in the registry (traffic/origin-health.ts). */
  origins: OriginHealthSnapshot;
  synthetic: SyntheticCheckResult | 'not configured';
}

/**
 * The gateway's scheduled work (`[triggers] crons`, every minute): a `GET /health` to every HTTP
 * origin of every pool, the results stored in the health registry for every isolate (run with no
 * origins configured it empties the registry, so nothing is kept for origins that are gone); and,
 * at the same time, keep the alert evaluator's alarm armed and run the synthetic user's check.
 */
export async function runGatewayCron(env: GatewayBindings, ctx: ExecutionContext): Promise<GatewayCronResult> {
  const [origins, synthetic] = await Promise.all([runOriginHealthChecks(configuredPools(env), platformOf(env).originHealth), runMonitoring(env, ctx)]);
  return { origins, synthetic };
}

/**
 * Keeps the alert evaluator's alarm armed, and runs the synthetic user's check.
 *
 * Where the check runs, and why: in the gateway's own scheduled handler, calling the app's fetch
 * in-process. A Worker cannot reach its own workers.dev address over HTTP (a subrequest to the
 * same account's workers.dev is refused), a separate checker worker would need a service binding
 * to the gateway and one more deploy, and the in-process call still goes through everything a
 * customer's request does: auth, rate limits, the route table, breakers and every service
 * binding. With SYNTHETIC_BASE_URL set it calls that gateway over HTTP instead (a staging
 * deployment watched from production, or the edge itself from anywhere).
 */
async function runMonitoring(env: GatewayBindings, ctx: ExecutionContext): Promise<GatewayCronResult['synthetic']> {
  await env.ALERTS.get(env.ALERTS.idFromName('global')).ensureRunning();
  const config = monitoringConfig(env);
  if (!config.SYNTHETIC_EMAIL || !config.SYNTHETIC_PASSWORD) return 'not configured';
  const base = config.SYNTHETIC_BASE_URL?.replace(/\/$/, '');
  const inProcess = gatewayFetch;
  const call = (path: string, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    headers.set('user-agent', 'stratus-synthetic-check');
    if (base) return fetch(`${base}${path}`, { ...init, headers, signal: AbortSignal.timeout(10_000) });
    if (!inProcess) throw new Error('the gateway app has not been handed to the cron');
    return Promise.resolve(inProcess(new Request(`https://synthetic.internal${path}`, { ...init, headers }), env, ctx));
  };
  const recorder = isolateRecorder(env);
  const result = await runSyntheticCheck({
    call,
    email: config.SYNTHETIC_EMAIL,
    password: config.SYNTHETIC_PASSWORD,
    orderTimeoutMs: config.SYNTHETIC_ORDER_TIMEOUT_MS,
    record: (step, result, durationMs) => {
      recorder.counter('synthetic_check_total', { step, result });
      recorder.observe('synthetic_check_duration_seconds', { step }, durationMs / 1000, SYNTHETIC_BUCKETS_SECONDS);
    },
  });
  if (result.ok) log.info('synthetic check passed', { orderId: result.orderId });
  else log.warn('synthetic check failed', { ...result });
  // Its numbers reach /metrics now, not after the next request's flush.
  await recorder.flush().catch((error: unknown) => log.warn('metrics flush after the synthetic check failed; kept for the next one', { error }));
  return result;
}

/** The gateway's `scheduled` handler. */
export async function gatewayScheduled(_controller: ScheduledController, env: GatewayBindings, ctx: ExecutionContext): Promise<void> {
  await runGatewayCron(env, ctx);
}
