import { z } from 'zod';

/**
 * Fault injection for one service (docs/api.md `PUT /_ops/chaos/:service`): every request waits
 * `latencyMs` first; then each request fails with probability `failureRate`, by answering
 * `status` or, with `hang`, by never answering (until the caller gives up). So
 * `{failureRate: 1}` fails everything, `{failureRate: 0, latencyMs: 800}` only slows it down,
 * and `{failureRate: 1, hang: true}` makes the service hang.
 */
export const chaosSettingsSchema = z
  .object({
    failureRate: z.number().min(0).max(1, 'failureRate is a fraction: 0 (none) to 1 (every request)'),
    status: z.number().int().min(400).max(599).default(503),
    latencyMs: z.number().int().min(0).max(60_000).default(0),
    hang: z.boolean().default(false),
  })
  .strict();

export type ChaosSettings = z.infer<typeof chaosSettingsSchema>;

/** What chaos does to one request. */
export interface ChaosDecision {
  delayMs: number;
  /** Present when this request fails: answer `status`, or hang. */
  fault?: { kind: 'status'; status: number } | { kind: 'hang' };
}

/** Decides one request's fate; `random` in [0, 1) is passed in so tests can pin it. */
export function decideChaos(settings: ChaosSettings, random: () => number): ChaosDecision {
  const failing = settings.failureRate > 0 && random() < settings.failureRate;
  if (!failing) return { delayMs: settings.latencyMs };
  return { delayMs: settings.latencyMs, fault: settings.hang ? { kind: 'hang' } : { kind: 'status', status: settings.status } };
}

/**
 * Where a service reads its chaos settings. Reads happen on every request, so an implementation
 * must be cheap (cached); `set` and `clear` take effect in the isolate that makes them at once.
 */
export interface ChaosSource {
  get(): Promise<ChaosSettings | null>;
  set(settings: ChaosSettings): Promise<void>;
  clear(): Promise<void>;
}
