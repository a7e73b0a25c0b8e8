import type { Context, Hono } from 'hono';
import { badRequest, HttpError, notFound, validationFailed } from '../http/problem';
import { chaosSettingsSchema, decideChaos, type ChaosSettings, type ChaosSource } from '../chaos/chaos-settings';
import { toFieldErrors } from '../validation/validate';
import type { AppEnv } from './app-env';
import { HEALTH_PATHS, SERVICE_METRICS_PATH } from './health-paths';

/**
 * Where a service takes its chaos settings. Only the gateway reaches it (`PUT/DELETE
 * /_ops/chaos/:service`, guarded by the admin token and `ALLOW_CHAOS`); the gateway never
 * forwards a public request here.
 */
export const CHAOS_PATH = '/_chaos';

/**
 * Paths chaos leaves alone: the health probes, the chaos switch itself, and the metrics the gateway
 * scrapes (a broken service's numbers are what an operator needs to see it break).
 */
const EXEMPT = new Set<string>([...Object.values(HEALTH_PATHS), CHAOS_PATH, SERVICE_METRICS_PATH]);

/** Waits `ms`, or less if the request is given up on (the caller aborted). */
const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** A hang that still ends: workerd cancels a request with no pending I/O, so a timer is kept. */
const HANG_LIMIT_MS = 5 * 60_000;

/** Parses and validates a chaos request body: 400 problem+json on anything else. */
export async function readChaosSettings(request: Request): Promise<ChaosSettings> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    throw badRequest('The request body is not valid JSON.');
  }
  const parsed = chaosSettingsSchema.safeParse(body);
  if (!parsed.success) throw validationFailed(toFieldErrors(parsed.error));
  return parsed.data;
}

export interface ChaosOptions {
  random?: () => number;
}

/**
 * Fault injection inside a service, so every caller sees it: the gateway, and services calling
 * each other. Registers the middleware (before the service's routes) and the `/_chaos` switch.
 * Reading the settings must never break the service: if the store cannot be read, no chaos.
 */
export function addChaos<Bindings extends object>(
  app: Hono<AppEnv<Bindings>>,
  sourceOf: (c: Context<AppEnv<Bindings>>) => ChaosSource,
  options: ChaosOptions = {},
): void {
  const random = options.random ?? Math.random;

  app.use(async (c, next) => {
    if (EXEMPT.has(c.req.path)) return next();
    let settings;
    try {
      settings = await sourceOf(c).get();
    } catch (error) {
      c.get('log').warn('chaos settings unreadable; running without chaos', { error });
    }
    if (!settings) return next();
    const decision = decideChaos(settings, random);
    if (decision.delayMs > 0) await pause(decision.delayMs, c.req.raw.signal);
    if (!decision.fault) return next();
    c.get('log').info('chaos fault injected', { fault: decision.fault.kind });
    if (decision.fault.kind === 'hang') {
      await pause(HANG_LIMIT_MS, c.req.raw.signal);
      throw new HttpError(504, { type: 'chaos-hang', detail: 'Chaos: this request was made to hang.' });
    }
    throw new HttpError(decision.fault.status, { type: 'chaos', detail: `Chaos: fault injected (status ${decision.fault.status}).` });
  });

  // Only the gateway's ops calls (a service token with the `ops` scope) see the switch at all.
  app.use(CHAOS_PATH, async (c, next) => {
    if (c.get('caller')?.scope !== 'ops') throw notFound(`No route for ${c.req.method} ${c.req.path}.`);
    await next();
  });
  app.get(CHAOS_PATH, async (c) => c.json({ chaos: await sourceOf(c).get() }));
  app.put(CHAOS_PATH, async (c) => {
    const settings = await readChaosSettings(c.req.raw);
    await sourceOf(c).set(settings);
    c.get('log').warn('chaos on', { chaos: settings });
    return c.json({ chaos: settings });
  });
  app.delete(CHAOS_PATH, async (c) => {
    await sourceOf(c).clear();
    c.get('log').warn('chaos off');
    return c.body(null, 204);
  });
}
