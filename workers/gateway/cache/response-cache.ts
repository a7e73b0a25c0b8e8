import type { Context } from 'hono';
import { UpstashAnswerStore } from '../../../shared/adapters/upstash/redis-answer-store';
import type { AnswerStore } from '../../../shared/cache/answer-store';
import { ageSeconds, betterThan, freshness, tagsCurrent, type CachedAnswer, type Freshness } from '../../../shared/cache/cached-answer';
import { SingleFlight } from '../../../shared/cache/single-flight';
import { TagVersions, type TagAuthority } from '../../../shared/cache/tag-versions';
import type { Identity } from '../../../shared/http/identity';
import { isHttpError } from '../../../shared/http/problem';
import type { AppEnv } from '../../../shared/middleware/app-env';
import type { GatewayBindings } from '../env';
import { answerKey, MAX_STORED_BODY_BYTES, storedAnswer } from '../resilience/fallback-store';
import { identifiesCaller } from '../traffic/visitor-cookie';
import { FALLBACK_HEADER } from '../resilience/fallback-rules';
import { recordCacheRequest } from '../ops/metrics';
import { chooseVersion } from '../traffic/route-versions';
import { rewritePath, routeLabel, type Route } from '../routes';
import { upstreamGuard } from '../resilience/upstream-guard';
import { CacheApiStore } from './cache-api-store';
import { cacheConfig, type CacheBindings } from './cache-config';
import type { CacheTagsObject } from './cache-tags-object';
import { tagsFor, type CachePolicy } from './cache-policy';

/**
 * The gateway's response cache, per route policy (routes.ts `cache`): cache-aside for GET and
 * HEAD in front of the whole upstream path (forwardToService with its timeout, retry, bulkhead,
 * breaker and fallbacks).
 *
 *   GET ─► key ─► L1 Cache API ─(miss)─► L2 Redis (optional) ─(miss)─► upstream ─► store L1 + L2
 *
 * - fresh (age < ttl): `x-cache: HIT`, the upstream not called;
 * - stale (ttl ≤ age < ttl + swr): `x-cache: STALE`, answered at once, and ONE refresh per isolate
 *   and key runs in `waitUntil`;
 * - otherwise, or when a tag it was stored under has been purged since: `x-cache: MISS`, fetched,
 *   stored when cacheable, answered;
 * - anything else on a route with a cache policy (a write, a caller with credentials when the
 *   route is not `private`, the cache turned off) is `x-cache: BYPASS`. Routes without a cache
 *   policy are not touched and carry no `x-cache`.
 * Cached answers carry `Age`. Each request counts once in `cache_requests_total{route,result}`.
 *
 * Keys: route name + deployment variant (the canary hook below) + caller scope (`public`, or the
 * user for a `private` route) + the `vary` headers' values + upstream path + query with its
 * parameters sorted (resilience/fallback-store.ts's answerKey: `?b=1&a=2` and `?a=2&b=1` are one entry).
 *
 * Never stored: answers other than 200 (a 404 or a problem+json names the request that got it:
 * its `instance` and `requestId`, so it cannot be replayed to another caller; and an id that is
 * missing now may be created the next second, when a cached 404 would hide it), answers with
 * `Set-Cookie`, `Cache-Control: no-store | no-cache` (or `private`, unless the route is `private`),
 * a `Vary` on headers the key does not hold, bodies over MAX_STORED_BODY_BYTES (256 KiB), and
 * fallback answers (`x-fallback`): a stand-in must never outlive the failure it covered. Such
 * requests are MISSes whose answer is not stored, not BYPASSes: the cache was asked.
 *
 * Coalescing: concurrent GETs for one key in one isolate make one lookup and, on a MISS, one
 * upstream call; the others wait for it (shared/cache/single-flight.ts says how that stays correct
 * on workerd: the leader hands over bytes, never a stream or a promise of its own I/O, and each
 * follower builds its own Response). Followers answer `HIT` (served a stored copy) or `STALE`,
 * or, when the leader's answer may not be shared (an error, an uncacheable answer), make their
 * own call.
 *
 * Invalidation: a write through the route answered 2xx purges the tags its policy names
 * (`invalidates`); tags are version counters (tag-versions.ts, cache-tags-object.ts), checked on
 * every read, so purging needs no enumeration of the Cache API (impossible) nor of Redis.
 */

type Label = 'HIT' | 'MISS' | 'STALE' | 'BYPASS';

export const CACHE_HEADER = 'x-cache';
/** Cache API keys live under this path on the request's own host; no route serves it. */
export const CACHE_KEY_PATH = '/__stratus-cache';

/**
 * CANARY HOOK: the deployment variant an answer belongs to, part of every key. Canary /
 * blue-green routing (traffic/route-versions.ts) sends each caller to one version of a versioned route,
 * and two versions may answer one URL differently, so each version's answers are kept apart. The
 * choice is made here, before the lookup, and kept on the context, so the proxy uses the same
 * version for a MISS. A route without versions has one variant, `default`.
 */
export async function cacheVariant(c: Context<AppEnv<GatewayBindings>>, route: Route, identity: Identity | null): Promise<string> {
  return (await chooseVersion(c, route, identity)) ?? 'default';
}

type Env = GatewayBindings & CacheBindings;
type Ctx = Context<AppEnv<GatewayBindings>>;

/** What a leader hands its followers: plain data only (see single-flight.ts). */
interface Shared {
  answer: CachedAnswer;
  label: 'HIT' | 'STALE' | 'MISS';
  /** Whether followers should be told its age (a cached copy) or keep its headers as they are (a fallback). */
  cached: boolean;
}

/** How long a tag-version read may take before the request goes on without it. */
const TAG_READ_TIMEOUT_MS = 1_000;
/** Past the route's deadline, how much longer a follower waits for its leader (reading the body, storing). */
const FOLLOWER_GRACE_MS = 1_000;

/** The version counters in the CacheTags Durable Objects, one per tag, each read bounded in time. */
function durableTagAuthority(namespace: DurableObjectNamespace<CacheTagsObject>): TagAuthority {
  const stub = (tag: string) => namespace.get(namespace.idFromName(`tag:${tag}`));
  return {
    version: (tag) => withTimeout(stub(tag).version(), TAG_READ_TIMEOUT_MS, `cache tag ${tag}`),
    bump: (tag) => stub(tag).bump(),
  };
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** One isolate's cache state (per env object, as resilience/upstream-guard.ts keeps its guards). */
class CacheLayer {
  readonly enabled: boolean;
  readonly l1: AnswerStore;
  readonly l2: AnswerStore | null;
  readonly tags: TagVersions;
  /** Keys with a background refresh under way in this isolate, and since when. */
  readonly refreshing = new Map<string, number>();
  private readonly flights = new Map<Route, SingleFlight<Shared>>();

  constructor(env: Env) {
    const config = cacheConfig(env);
    this.enabled = config.CACHE_ENABLED;
    this.l1 = new CacheApiStore();
    this.l2 =
      config.UPSTASH_REDIS_REST_URL && config.UPSTASH_REDIS_REST_TOKEN
        ? new UpstashAnswerStore({ url: config.UPSTASH_REDIS_REST_URL, token: config.UPSTASH_REDIS_REST_TOKEN })
        : null;
    this.tags = new TagVersions(durableTagAuthority(env.CACHE_TAGS));
  }

  flightsFor(route: Route, maxWaitMs: number): SingleFlight<Shared> {
    let flights = this.flights.get(route);
    if (!flights) {
      flights = new SingleFlight<Shared>({ maxWaitMs });
      this.flights.set(route, flights);
    }
    return flights;
  }
}

const layers = new WeakMap<object, CacheLayer>();

function cacheLayer(env: Env): CacheLayer {
  let layer = layers.get(env);
  if (!layer) {
    layer = new CacheLayer(env);
    layers.set(env, layer);
  }
  return layer;
}

/** Work that may outlive the response goes to `waitUntil`; a failure is logged, never thrown. */
function defer(c: Ctx, work: Promise<unknown>, what: string): void {
  const guarded = work.catch((error: unknown) => c.get('log').warn(`${what} failed`, { error }));
  try {
    c.executionCtx.waitUntil(guarded);
  } catch {
    // No execution context (a unit test calling the app directly): the promise still runs.
  }
}

/** Sets `x-cache` (on a Response whose headers may be immutable, a copy). */
function labelled(response: Response, label: Label): Response {
  try {
    response.headers.set(CACHE_HEADER, label);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    copy.headers.set(CACHE_HEADER, label);
    return copy;
  }
}

/** A cached answer as a Response of its own (a copy of the bytes: each caller gets its own). */
function fromAnswer(answer: CachedAnswer, label: Label, options: { head: boolean; age: boolean; now: number }): Response {
  const headers = new Headers(answer.headers);
  if (options.age) headers.set('age', String(ageSeconds(answer, options.now)));
  headers.set(CACHE_HEADER, label);
  return new Response(options.head ? null : answer.body.slice(0), { status: answer.status, headers });
}

/** Calls the upstream path; a problem it throws carries `x-cache` too. */
async function forwardLabelled(forward: () => Promise<Response>, label: Label): Promise<Response> {
  try {
    return labelled(await forward(), label);
  } catch (error) {
    if (isHttpError(error)) error.headers[CACHE_HEADER] = label;
    throw error;
  }
}

/** Whether a request carries credentials: its answer may be for that caller only. */

/** Whether an upstream answer may be stored under `policy` (the request was already found eligible). */
export function isStorable(response: Response, policy: CachePolicy): boolean {
  if (response.status !== 200 || response.headers.has('set-cookie') || response.headers.has(FALLBACK_HEADER)) return false;
  const cacheControl = response.headers.get('cache-control') ?? '';
  if (/\b(no-store|no-cache)\b/i.test(cacheControl)) return false;
  if (/\bprivate\b/i.test(cacheControl) && !policy.private) return false;
  const vary = response.headers.get('vary');
  if (vary) {
    const keyed = new Set((policy.vary ?? []).map((name) => name.toLowerCase()));
    const names = vary.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
    if (names.some((name) => name === '*' || !keyed.has(name))) return false;
  }
  return Number(response.headers.get('content-length') ?? 0) <= MAX_STORED_BODY_BYTES;
}

/** The key of a request, without the host (L2's key; L1's is this path on the request's host). */
export async function cacheKey(c: Ctx, route: Route, policy: CachePolicy, identity: Identity | null, upstreamPath: string, search: string): Promise<string> {
  const scope = policy.private ? `user:${identity?.userId ?? 'anonymous'}` : 'public';
  const vary = (policy.vary ?? []).map((name) => `${name.toLowerCase()}=${encodeURIComponent(c.req.header(name) ?? '')}`).join('&');
  const parts = [route.name, await cacheVariant(c, route, identity), scope, vary || '-'].map(encodeURIComponent);
  return `${CACHE_KEY_PATH}/${parts.join('/')}${answerKey(upstreamPath, search)}`;
}

interface Lookup {
  found: { answer: CachedAnswer; state: Exclude<Freshness, 'expired'> } | null;
  /** The request's tag versions, read before any upstream call; null when they could not be read. */
  versions: Record<string, number> | null;
}

interface CacheRequest {
  c: Ctx;
  route: Route;
  policy: CachePolicy;
  layer: CacheLayer;
  forward: () => Promise<Response>;
  /** L2 key; L1's is `origin + key`. */
  key: string;
  origin: string;
  tags: string[];
  head: boolean;
}

/** A store's error, short: Upstash's message repeats the whole command, value (the body) included. */
const briefly = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : String(error).slice(0, 200));

async function safeGet(r: CacheRequest, store: AnswerStore, key: string): Promise<CachedAnswer | null> {
  try {
    return await store.get(key);
  } catch (error) {
    r.c.get('log').warn('cache read failed; treated as a miss', { store: store.name, error: briefly(error) });
    return null;
  }
}

function judge(answer: CachedAnswer | null, versions: Record<string, number> | null, now: number): Lookup['found'] {
  if (!answer || !versions || !tagsCurrent(answer, versions)) return null;
  const state = freshness(answer, now);
  return state === 'expired' ? null : { answer, state };
}

/** L1, then L2 when L1 has nothing fresh (a better copy from L2 fills L1). */
async function lookup(r: CacheRequest): Promise<Lookup> {
  const [fromL1, versions] = await Promise.all([
    safeGet(r, r.layer.l1, r.origin + r.key),
    r.layer.tags.current(r.tags).catch((error: unknown) => {
      r.c.get('log').warn('cache tag versions unreadable; not using the cache', { tags: r.tags, error });
      return null;
    }),
  ]);
  let found = judge(fromL1, versions, Date.now());
  if (found?.state !== 'fresh' && r.layer.l2 && versions) {
    const fromL2 = judge(await safeGet(r, r.layer.l2, r.key), versions, Date.now());
    if (fromL2 && betterThan(fromL2.state, found?.state ?? null)) {
      found = fromL2;
      defer(r.c, r.layer.l1.put(r.origin + r.key, fromL2.answer), 'cache L1 fill from L2');
    }
  }
  return { found, versions };
}

async function store(r: CacheRequest, answer: CachedAnswer): Promise<void> {
  const log = r.c.get('log');
  await Promise.all([
    r.layer.l1.put(r.origin + r.key, answer).catch((error: unknown) => log.warn('cache write failed', { store: r.layer.l1.name, error: briefly(error) })),
    r.layer.l2?.put(r.key, answer).catch((error: unknown) => log.warn('cache write failed', { store: r.layer.l2?.name, error: briefly(error) })),
  ]);
}

/** The answer as stored: the upstream's (storedAnswer: at most 256 KiB, per-exchange headers dropped) plus our policy. */
function toCached(copy: NonNullable<Awaited<ReturnType<typeof storedAnswer>>>, r: CacheRequest, versions: Record<string, number>): CachedAnswer {
  return {
    status: copy.status,
    headers: copy.headers.filter(([name]) => name.toLowerCase() !== CACHE_HEADER),
    body: copy.body,
    storedAt: copy.at,
    ttlSeconds: r.policy.ttlSeconds,
    staleWhileRevalidateSeconds: r.policy.staleWhileRevalidateSeconds,
    tags: versions,
  };
}

/** ONE refresh per isolate and key at a time, in `waitUntil`; the stale answer has already gone out. */
function refreshInBackground(r: CacheRequest, versions: Record<string, number>, maxWaitMs: number): void {
  const started = r.layer.refreshing.get(r.key);
  if (started !== undefined && Date.now() - started < maxWaitMs) return;
  const mark = Date.now();
  r.layer.refreshing.set(r.key, mark);
  const refresh = async () => {
    try {
      const response = await r.forward();
      if (!isStorable(response, r.policy)) {
        await response.body?.cancel();
        return;
      }
      const copy = await storedAnswer(response, Date.now());
      if (copy) await store(r, toCached(copy, r, versions));
    } finally {
      if (r.layer.refreshing.get(r.key) === mark) r.layer.refreshing.delete(r.key);
    }
  };
  defer(r.c, refresh(), 'cache background refresh');
}

/** A lookup, then the upstream on a MISS: the answer for this request, and what its followers may share. */
async function serve(r: CacheRequest, maxWaitMs: number): Promise<{ response: Response; share: Shared | null }> {
  const { c, route } = r;
  const { found, versions } = await lookup(r);
  const now = Date.now();
  if (found?.state === 'fresh') {
    recordCacheRequest(c, routeLabel(route), 'hit');
    return { response: fromAnswer(found.answer, 'HIT', { head: r.head, age: true, now }), share: { answer: found.answer, label: 'HIT', cached: true } };
  }
  if (found?.state === 'stale') {
    recordCacheRequest(c, routeLabel(route), 'stale');
    if (!r.head && versions) refreshInBackground(r, versions, maxWaitMs);
    return { response: fromAnswer(found.answer, 'STALE', { head: r.head, age: true, now }), share: { answer: found.answer, label: 'STALE', cached: true } };
  }

  recordCacheRequest(c, routeLabel(route), 'miss');
  const response = await forwardLabelled(r.forward, 'MISS');
  // A HEAD answer has no body to keep; the next GET fills the cache.
  if (r.head) return { response, share: null };
  const fallback = response.headers.has(FALLBACK_HEADER);
  if (!fallback && (!versions || !isStorable(response, r.policy))) return { response, share: null };
  if (fallback && response.status !== 200) return { response, share: null };

  // A copy of at most 256 KiB; past that, null, and the caller still streams the original.
  const copy = await storedAnswer(response.clone(), Date.now());
  if (!copy) return { response, share: null };
  await response.body?.cancel();
  // This caller keeps every upstream header (its traceresponse names the span that served it).
  const own = new Response(copy.body.slice(0), { status: response.status, statusText: response.statusText, headers: response.headers });
  if (fallback) {
    // A fallback is for anyone (only public answers are kept for one) but is never stored.
    const age = response.headers.get('age');
    if (age) copy.headers.push(['age', age]);
    return { response: own, share: { answer: toCached(copy, r, {}), label: 'MISS', cached: false } };
  }
  const answer = toCached(copy, r, versions!);
  defer(c, store(r, answer), 'cache store');
  return { response: own, share: { answer, label: 'HIT', cached: true } };
}

/** A write through a cacheable route: never cached; a 2xx purges the tags the policy names. */
async function write(c: Ctx, route: Route, policy: CachePolicy, forward: () => Promise<Response>): Promise<Response> {
  recordCacheRequest(c, routeLabel(route), 'bypass');
  const response = await forwardLabelled(forward, 'BYPASS');
  if (response.status < 200 || response.status >= 300 || !policy.invalidates) return response;
  const upstreamPath = rewritePath(route, new URL(c.req.url).pathname);
  const tags = policy.invalidates({ method: c.req.method, upstreamPath, response });
  if (!tags.length) return response;
  // Awaited, not deferred: the caller's next read, in this isolate, must already see the purge.
  try {
    const versions = await cacheLayer(c.env as Env).tags.purge(tags);
    c.get('log').info('cache tags purged', { tags: Object.keys(versions) });
  } catch (error) {
    c.get('log').error('cache tag purge failed; cached answers expire by their TTL', { tags, error });
  }
  return response;
}

/**
 * The route handler's upstream call, through the route's cache policy: `forward` is
 * `() => forwardToService(c, route, identity)`. Routes without a policy are passed straight through.
 */
export async function cached(c: Ctx, route: Route, identity: Identity | null, forward: () => Promise<Response>): Promise<Response> {
  const policy = route.policy.cache;
  if (!policy) return forward();
  const method = c.req.method;
  if (method !== 'GET' && method !== 'HEAD') return write(c, route, policy, forward);

  const env = c.env as Env;
  const layer = cacheLayer(env);
  if (!layer.enabled || (!policy.private && identifiesCaller(c.req.raw))) {
    recordCacheRequest(c, routeLabel(route), 'bypass');
    return forwardLabelled(forward, 'BYPASS');
  }

  const incoming = new URL(c.req.url);
  // Keyed and tagged by the path as the service will route it (decoded): `/%70roducts/1` is
  // `/products/1` there, so it must share that entry and its tags, or a purge would miss it.
  let upstreamPath: string;
  try {
    upstreamPath = rewritePath(route, decodeURIComponent(incoming.pathname));
  } catch {
    // Not valid percent-encoding: the proxy refuses it (400); nothing to cache.
    recordCacheRequest(c, routeLabel(route), 'bypass');
    return forwardLabelled(forward, 'BYPASS');
  }
  const r: CacheRequest = {
    c,
    route,
    policy,
    layer,
    forward,
    key: await cacheKey(c, route, policy, identity, upstreamPath, incoming.search),
    origin: incoming.origin,
    tags: tagsFor(policy, upstreamPath, incoming.search),
    head: method === 'HEAD',
  };
  const maxWaitMs = upstreamGuard(env, route).policy.timeoutMs + FOLLOWER_GRACE_MS;
  if (r.head) return (await serve(r, maxWaitMs)).response;

  // Joined with no await between the look at the flights and the joining: exactly one leader per key.
  const role = layer.flightsFor(route, maxWaitMs).join(r.key);
  if (!role.leader) {
    const shared = await role.wait();
    if (shared) {
      recordCacheRequest(c, routeLabel(route), shared.label === 'STALE' ? 'stale' : shared.label === 'HIT' ? 'hit' : 'miss');
      return fromAnswer(shared.answer, shared.label, { head: false, age: shared.cached, now: Date.now() });
    }
    // Nothing to share (an error, an answer for one caller): this request makes its own call.
    return (await serve(r, maxWaitMs)).response;
  }
  let share: Shared | null = null;
  try {
    const outcome = await serve(r, maxWaitMs);
    share = outcome.share;
    return outcome.response;
  } finally {
    role.settle(share);
  }
}
