import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { BoundedLru } from '../../../shared/cache/bounded-lru';
import { RefreshingValue } from '../../../shared/cache/refreshing-value';
import { evaluateFlags, flagsOn, type FlagSet } from '../../../shared/flags/flag-set';
import type { Identity } from '../../../shared/http/identity';
import type { AppEnv } from '../../../shared/middleware/app-env';
import { gatewayConfig } from '../config';
import type { GatewayBindings } from '../env';
import { perIsolate } from '../per-isolate';
import { PLATFORM, type WithPlatform } from '../platform';
import type { StoredFlags } from './flag-store-object';
import { VISITOR_COOKIE } from './visitor-cookie';

type Ctx = Context<AppEnv<GatewayBindings>>;

/** Where a flag's definition comes from: the `FEATURE_FLAGS` var, or an operator at run time. */
export type FlagSource = 'default' | 'operator';

/** Subjects whose evaluated flags an isolate remembers (for the current flag set only). */
const EVALUATIONS_KEPT = 1_000;

/**
 * The flags in force in this isolate: the `FEATURE_FLAGS` var's (the defaults, and the seed of a
 * new deployment), each replaced by the operator's flag of the same key where one is stored
 * (traffic/flag-store-object.ts), the operator's new keys after them. Immutable: a change makes
 * a new one, so the evaluations it remembers are never stale.
 */
export class LiveFlagSet {
  private readonly evaluated = new BoundedLru<string, string[]>(EVALUATIONS_KEPT);

  constructor(
    readonly flags: FlagSet,
    readonly sources: ReadonlyMap<string, { source: FlagSource; updatedAt?: string }>,
    readonly revision: number,
  ) {}

  static merge(defaults: FlagSet, stored: StoredFlags): LiveFlagSet {
    const sources = new Map<string, { source: FlagSource; updatedAt?: string }>();
    const flags: FlagSet = [];
    for (const flag of defaults) {
      const operator = stored.flags[flag.key];
      flags.push(operator ? operator.definition : flag);
      sources.set(flag.key, operator ? { source: 'operator', updatedAt: operator.updatedAt } : { source: 'default' });
    }
    for (const key of Object.keys(stored.flags).sort()) {
      if (sources.has(key)) continue;
      const operator = stored.flags[key]!;
      flags.push(operator.definition);
      sources.set(key, { source: 'operator', updatedAt: operator.updatedAt });
    }
    return new LiveFlagSet(flags, sources, stored.revision);
  }

  /**
   * The keys on for a subject, what the service token carries: evaluated once per subject and
   * flag set, then a map lookup (the gateway's hot path calls this on every forwarded request).
   */
  onFor(subjectId: string | undefined): string[] {
    if (this.flags.length === 0) return [];
    const key = subjectId ?? '';
    let on = this.evaluated.get(key);
    if (!on) {
      on = flagsOn(this.flags, subjectId);
      this.evaluated.set(key, on);
    }
    return on;
  }

  /** Every flag's value for a subject, `{<key>: true|false}` (GET /api/flags). */
  values(subjectId: string | undefined): Record<string, boolean> {
    return evaluateFlags(this.flags, subjectId);
  }
}

const NO_FLAGS_STORED: StoredFlags = { flags: {}, revision: 0 };

/** The one FlagStore object (named "flags"). A stub belongs to the request that made it: one per call. */
export const flagStore = (env: GatewayBindings) => env.FLAGS.get(env.FLAGS.idFromName('flags'));

/**
 * This isolate's view of the flags. On Cloudflare: the FlagStore object's flags over the defaults,
 * fresh for half of FLAGS_REFRESH_MS (1 s by default), then used while one background read
 * refreshes them, and read in line only past FLAGS_REFRESH_MS (an isolate that was idle), so
 * every isolate uses a change within about a second and a busy one never waits for it. Off
 * Cloudflare (Bun, Deno: runtimes/) there is no object: the defaults alone.
 */
const liveFlags = perIsolate((env: WithPlatform<GatewayBindings>, _key: 'flags') => {
  const defaults = gatewayConfig(env).FEATURE_FLAGS;
  if (env[PLATFORM]) {
    const fixed = LiveFlagSet.merge(defaults, NO_FLAGS_STORED);
    return { get: async () => fixed, set: () => undefined };
  }
  const refreshMs = gatewayConfig(env).FLAGS_REFRESH_MS;
  const value = new RefreshingValue<LiveFlagSet>({
    read: async () => LiveFlagSet.merge(defaults, await flagStore(env).read()),
    freshMs: refreshMs / 2,
    maxStaleMs: refreshMs,
  });
  return {
    get: (defer: (work: Promise<unknown>) => void, onProblem: (problem: string, error?: unknown) => void, maxAgeMs?: number) => value.get(defer, onProblem, maxAgeMs),
    set: (stored: StoredFlags) => value.set(LiveFlagSet.merge(defaults, stored)),
  };
});

/** `waitUntil` of this request, for work that must not hold its response. */
function deferOf(c: Ctx) {
  return (work: Promise<unknown>) => {
    try {
      c.executionCtx.waitUntil(work);
    } catch {
      // No execution context (a unit test calling the app directly): the promise still runs.
    }
  };
}

/**
 * The flags in force for this request. Never fails a request: when the store cannot be read and
 * this isolate never read it, the defaults alone apply (and the log says so).
 */
export async function currentFlags(c: Ctx, maxAgeMs?: number): Promise<LiveFlagSet> {
  const log = c.get('log');
  try {
    return await liveFlags(c.env, 'flags').get(deferOf(c), (problem, error) => log.warn(`feature flags: ${problem}`, { error }), maxAgeMs);
  } catch (error) {
    log.warn('feature flags unreadable; using the FEATURE_FLAGS defaults', { error });
    return LiveFlagSet.merge(gatewayConfig(c.env).FEATURE_FLAGS, NO_FLAGS_STORED);
  }
}

/** After a change through this isolate: used here at once, the other isolates within FLAGS_REFRESH_MS. */
export function useStoredFlags(env: GatewayBindings, stored: StoredFlags): LiveFlagSet {
  liveFlags(env, 'flags').set(stored);
  return LiveFlagSet.merge(gatewayConfig(env).FEATURE_FLAGS, stored);
}

/** Only ids the gateway could have minted are used: a UUID, lower-case, as randomUUID writes it. */
const VISITOR_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Whom flags are evaluated for on a call to a service: the signed-in user, else the visitor
 * cookie when the request carries a valid one. Unlike `stickyKey` (route-versions.ts) it never
 * mints a cookie: every response of every route would otherwise set one, and a cacheable answer
 * must not. A caller with neither has only the flags rolled out to everyone.
 */
export function flagSubject(c: Ctx, identity: Identity | null): string | undefined {
  if (identity) return identity.userId;
  const cookie = getCookie(c, VISITOR_COOKIE);
  return cookie && VISITOR_ID.test(cookie) ? cookie : undefined;
}
