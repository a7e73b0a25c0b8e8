import { isBulkheadRejectedError } from '../../../shared/resilience/bulkhead';
import { isBrokenCircuitError } from '../../../shared/resilience/breaker-policy';
import type { FallbackCause } from '../../../shared/resilience/fallback';
import { isTimeoutError } from '../../../shared/resilience/timeout';
import { FALLBACK_HEADER, FALLBACK_REASON_HEADER, type FallbackKind, type FallbackReason, type FallbackRule } from './fallback-rules';
import { AnswerStore, answerKey, isShareable, storedAnswer, type StoredAnswer } from './fallback-store';

/** What failed, as clients see it in `x-fallback-reason`. */
export function fallbackReason(cause: FallbackCause<Response>): FallbackReason {
  if ('result' in cause) return `upstream-${cause.result.status}`;
  if (isBrokenCircuitError(cause.error)) return 'circuit-open';
  if (isBulkheadRejectedError(cause.error)) return 'bulkhead-full';
  if (isTimeoutError(cause.error)) return 'timeout';
  return 'unreachable';
}

/** The request a fallback answers: its upstream path and query, and whether it named its caller. */
export interface FallbackRequest {
  method: string;
  upstreamPath: string;
  search: string;
  /** An answer to an identified caller may hold what only they may see: never kept for others. */
  identified: boolean;
}

const DEFAULT_LAST_GOOD_MAX_AGE_MS = 10 * 60_000;
/**
 * A last-good copy younger than this is not replaced: copying every good answer (a tee of its body,
 * read to the end, in `waitUntil`) was a cost on every GET of a hot path, for a copy that only
 * matters once the upstream fails, and whose `Age` says how old it is anyway. So a replayed answer
 * is at most this much older than the last good one.
 */
export const LAST_GOOD_REFRESH_MS = 1_000;
const DEFAULT_DEGRADED_REFRESH_MS = 60_000;
const DEFAULT_DEGRADED_MAX_AGE_MS = 60 * 60_000;

function replay(answer: StoredAnswer, kind: FallbackKind, reason: FallbackReason, now: number): Response {
  const headers = new Headers(answer.headers);
  headers.set(FALLBACK_HEADER, kind);
  headers.set(FALLBACK_REASON_HEADER, reason);
  headers.set('age', String(Math.max(0, Math.floor((now - answer.at) / 1000))));
  // A stand-in answer must not be cached downstream as if it were the real one.
  headers.set('cache-control', 'no-store');
  return new Response(answer.body, { status: answer.status, headers });
}

/**
 * One route's fallbacks in one isolate: it remembers good answers as they pass, refreshes the
 * degraded sources while the upstream is healthy, and answers a failed GET by the route's rules.
 * Only GET and HEAD ever get a fallback: a write must fail visibly, never be faked.
 */
export class RouteFallbacks {
  private readonly answers = new AnswerStore();
  /** Degraded sources apart, so a flood of last-good entries never evicts them. */
  private readonly sources = new Map<string, StoredAnswer>();
  private readonly refreshing = new Set<string>();

  constructor(
    private readonly rules: FallbackRule[],
    /** Fetches an upstream path (a degraded source) straight from the service. */
    private readonly fetchSource: (path: string) => Promise<Response>,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.rules.length > 0;
  }

  private get keepsLastGood(): boolean {
    return this.rules.some((rule) => rule.kind === 'last-good');
  }

  /**
   * After a good answer: keeps a copy for `last-good` and refreshes stale degraded sources.
   * Returns work for `waitUntil` (reading the copy, fetching a source), or undefined.
   */
  remember(req: FallbackRequest, response: Response): Promise<void> | undefined {
    if (req.method !== 'GET' || !this.enabled) return undefined;
    const work: Promise<void>[] = [];
    if (this.keepsLastGood && isShareable(req.identified, response)) {
      const key = answerKey(req.upstreamPath, req.search);
      const storedAt = this.answers.storedAt(key);
      if (storedAt === undefined || this.now() - storedAt >= LAST_GOOD_REFRESH_MS) work.push(this.store(key, response.clone()));
    }
    for (const rule of this.rules) {
      if (rule.kind !== 'degraded') continue;
      const age = this.now() - (this.sources.get(rule.source)?.at ?? -Infinity);
      if (age < (rule.refreshMs ?? DEFAULT_DEGRADED_REFRESH_MS) || this.refreshing.has(rule.source)) continue;
      work.push(this.refresh(rule.source));
    }
    return work.length ? Promise.all(work).then(() => undefined) : undefined;
  }

  /** The fallback answer for a failed request, or undefined when no rule has one. */
  answer(req: FallbackRequest, cause: FallbackCause<Response>): Response | undefined {
    if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
    const reason = fallbackReason(cause);
    const now = this.now();
    for (const rule of this.rules) {
      if (rule.kind === 'last-good') {
        const answer = this.answers.get(answerKey(req.upstreamPath, req.search), rule.maxAgeMs ?? DEFAULT_LAST_GOOD_MAX_AGE_MS, now);
        if (answer) return replay(answer, 'last-good', reason, now);
      } else if (rule.kind === 'degraded') {
        if (!rule.paths.includes(req.upstreamPath)) continue;
        const allowed = rule.queries;
        if (allowed && [...new URLSearchParams(req.search).keys()].some((name) => !allowed.includes(name))) continue;
        const answer = this.sources.get(rule.source);
        if (answer && now - answer.at <= (rule.maxAgeMs ?? DEFAULT_DEGRADED_MAX_AGE_MS)) return replay(answer, 'degraded', reason, now);
      } else if (!rule.paths || rule.paths.includes(req.upstreamPath)) {
        const body = JSON.stringify(rule.body);
        const stored: StoredAnswer = { status: rule.status ?? 200, headers: [['content-type', 'application/json']], body: new TextEncoder().encode(body).buffer as ArrayBuffer, at: now };
        return replay(stored, 'static', reason, now);
      }
    }
    return undefined;
  }

  private async store(key: string, copy: Response): Promise<void> {
    const answer = await storedAnswer(copy, this.now()).catch(() => null);
    if (answer) this.answers.set(key, answer);
  }

  private async refresh(source: string): Promise<void> {
    this.refreshing.add(source);
    try {
      const response = await this.fetchSource(source);
      if (response.status !== 200) {
        await response.body?.cancel();
        return;
      }
      const answer = await storedAnswer(response, this.now());
      if (answer) this.sources.set(source, answer);
    } catch {
      // A source that cannot be fetched now is tried again after the next good answer.
    } finally {
      this.refreshing.delete(source);
    }
  }
}
