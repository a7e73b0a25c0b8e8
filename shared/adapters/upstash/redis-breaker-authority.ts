import { Redis } from '@upstash/redis/cloudflare';
import type { BreakerAuthority, BreakerView, CallOutcome, TimedOutcomes } from '../../resilience/breaker-authority';
import { BreakerLedger } from '../../resilience/breaker-ledger';
import type { BreakerState, CircuitBreakerOptions } from '../../resilience/circuit-breaker';

/**
 * Compare-and-set in one script: writes ARGV[2] only if the key still holds ARGV[1] (`''`: the key
 * is absent). Redis runs a script alone, so a write between our read and this check is seen.
 * Every value written carries a fresh random `rev`, so a key already holding ARGV[2] means this
 * very write landed before: the client re-sent the command after losing the first answer (a reset
 * connection; it retries once). Answering 1 then keeps the step from being applied a second time.
 */
const COMPARE_AND_SET = `local current = redis.call('GET', KEYS[1])
if current == ARGV[2] then
  return 1
end
if (current == false and ARGV[1] == '') or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0`;

/** How often an operation is tried again after another process changed the breaker first. */
const MAX_ATTEMPTS = 20;

interface StoredLedger {
  state: BreakerState;
  transitions: Record<string, number>;
  /** Random per write: tells this write from any other that left the same ledger (COMPARE_AND_SET). */
  rev?: string;
}

/** The ledger part of a stored value, without its `rev`: what a step may or may not change. */
const ledgerText = (ledger: { state: BreakerState; transitions: Record<string, number> }) =>
  JSON.stringify({ state: ledger.state, transitions: ledger.transitions });

export interface UpstashBreakerOptions {
  /** UPSTASH_REDIS_REST_URL */
  url: string;
  /** UPSTASH_REDIS_REST_TOKEN */
  token: string;
  /** A command not answered within this long fails (the breaker client then keeps its own view). Default 1000. */
  timeoutMs?: number;
  /** Key prefix; each upstream's breaker is `<prefix><name>`. Default `stratus:breaker:`. */
  prefix?: string;
  now?: () => number;
}

/**
 * Circuit breakers in Upstash Redis, for gateways of several processes off Cloudflare (runtimes/):
 * every process sees one breaker per upstream, as every isolate sees one Durable Object. The same
 * ledger as the Durable Object and the in-memory authority (shared/resilience/breaker-ledger.ts),
 * kept as one JSON value per breaker: each operation reads it, applies the step in this process,
 * and writes it back only if no one changed it meanwhile (compare-and-set), else starts over. A
 * breaker is reported to on failures and at most once per report interval otherwise, so
 * contention is low and a retry is cheap; the step logic stays in one place, not in Lua.
 *
 * Each step reads the clock of the process that applies it (when the breaker opened, when its open
 * period ends), not Redis's: processes whose clocks disagree by some seconds shift the open period
 * by as much, one process letting a probe through earlier or later than another would.
 */
export class UpstashBreakerAuthorities {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly byName = new Map<string, BreakerAuthority>();

  constructor(options: UpstashBreakerOptions) {
    const timeoutMs = options.timeoutMs ?? 1_000;
    this.prefix = options.prefix ?? 'stratus:breaker:';
    this.now = options.now ?? Date.now;
    this.redis = new Redis({
      url: options.url,
      token: options.token,
      // The stored text is compared byte for byte by the script: no JSON round trip in the client.
      automaticDeserialization: false,
      // As in ratelimit-backend.ts: one fetch per command, a real deadline on each, one quick retry
      // (safe for the compare-and-set too: a re-sent write that had landed is recognised by its rev).
      enableAutoPipelining: false,
      signal: () => AbortSignal.timeout(timeoutMs),
      retry: { retries: 1, backoff: () => 25 },
      enableTelemetry: false,
    });
  }

  /** The authority of the breaker named `name` (an upstream: `catalog`, `catalog@v2`). */
  authority(name: string): BreakerAuthority {
    let authority = this.byName.get(name);
    if (!authority) {
      authority = this.authorityFor(`${this.prefix}${name}`);
      this.byName.set(name, authority);
    }
    return authority;
  }

  private authorityFor(key: string): BreakerAuthority {
    const update = async <T extends { view: BreakerView }>(change: (ledger: BreakerLedger, now: number) => T): Promise<T> => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const stored = (await this.redis.get<string>(key)) ?? '';
        const parsed = stored ? (JSON.parse(stored) as StoredLedger) : undefined;
        const ledger = new BreakerLedger(parsed?.state, parsed?.transitions);
        const result = change(ledger, this.now());
        if (parsed && ledgerText(ledger) === ledgerText(parsed)) return result;
        const next = JSON.stringify({ state: ledger.state, transitions: ledger.transitions, rev: crypto.randomUUID() } satisfies StoredLedger);
        if ((await this.redis.eval<[string, string], number>(COMPARE_AND_SET, [key], [stored, next])) === 1) return result;
      }
      throw new Error(`breaker ${key}: changed by others ${MAX_ATTEMPTS} times in a row`);
    };
    return {
      current: async () => {
        const stored = await this.redis.get<string>(key);
        const parsed = stored ? (JSON.parse(stored) as StoredLedger) : undefined;
        return new BreakerLedger(parsed?.state, parsed?.transitions).view();
      },
      report: async (options: CircuitBreakerOptions, outcomes: TimedOutcomes | TimedOutcomes[]) => (await update((ledger, now) => ledger.report(options, outcomes, now))).view,
      cancelProbe: async (options: CircuitBreakerOptions, period: number) => (await update((ledger, now) => ledger.cancelProbe(options, period, now))).view,
      acquireProbe: async (options: CircuitBreakerOptions) => {
        const { permitted, period, view } = await update((ledger, now) => ledger.acquireProbe(options, now));
        return { permitted, period, view };
      },
      probeOutcome: async (options: CircuitBreakerOptions, outcome: CallOutcome & { period: number }) =>
        (await update((ledger, now) => ledger.probeOutcome(options, outcome, now))).view,
    };
  }
}
