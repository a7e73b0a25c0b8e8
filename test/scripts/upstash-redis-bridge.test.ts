import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis';
import { Redis as CloudflareRedis } from '@upstash/redis/cloudflare';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../../scripts/redis-server.mjs';
import { RedisConnection, RedisReplyError } from '../../scripts/resp.mjs';
import { redisCompatibleScript, ScriptShas, sha1 } from '../../scripts/upstash-lua.mjs';
import { startBridge, type UpstashBridge } from '../../scripts/upstash-redis-bridge.mjs';
import { redisAvailable, redisServerIsOnPath } from '../support/redis-required';
import { encodeReply } from '../../scripts/upstash-rest.mjs';

// These tests need a real redis-server. Where there is none they cannot run, and a skipped suite
// is easy to mistake for a passing one, so: the suite runs only if redis-server is on PATH, and
// the test below always runs. Without redis-server it fails in CI (CI set, as CI services do, or
// STRATUS_REQUIRE_REDIS=1, as .ci/run sets) and, elsewhere, shows as skipped with the reason and
// prints a warning; it never passes quietly.
redisServerIsOnPath('Upstash REST bridge tests');

const TOKEN = 'test-upstash-token';
const key = (name: string) => `test:${name}:${randomUUID()}`;

describe('Upstash reply encoding (no Redis needed)', () => {
  it('base64 for every string but a top-level OK status; numbers, null and nesting as JSON', () => {
    const reply = [Buffer.from('hé'), 'OK', 7n, null, [Buffer.from([0xff]), new RedisReplyError('ERR x')]];
    expect(encodeReply('OK', true)).toBe('"OK"');
    expect(encodeReply(Buffer.from('OK'), true)).toBe('"T0s="');
    expect(encodeReply(reply, true)).toBe('["aMOp","T0s=",7,null,["/w==","RVJSIHg="]]');
    expect(encodeReply(reply, false)).toBe('["hé","OK",7,null,["\uFFFD","ERR x"]]');
    expect(encodeReply(12345678901234567890n, true)).toBe('12345678901234567890');
  });

  it('drops only the shebang flag Redis does not know, and maps the SHA1 back', () => {
    const body = '\nreturn redis.call("INCR", KEYS[1])';
    expect(redisCompatibleScript(`#!lua flags=allow-key-locking${body}`)).toBe(`#!lua${body}`);
    expect(redisCompatibleScript(`#!lua flags=no-writes,allow-key-locking${body}`)).toBe(`#!lua flags=no-writes${body}`);
    expect(redisCompatibleScript(`#!lua flags=no-writes${body}`)).toBe(`#!lua flags=no-writes${body}`);
    expect(redisCompatibleScript(`return 1`)).toBe('return 1');
    const shas = new ScriptShas();
    const upstashScript = `#!lua flags=allow-key-locking${body}`;
    expect(shas.forRedis(upstashScript)).toEqual({ script: `#!lua${body}`, clientSha: sha1(upstashScript) });
    expect(shas.redisSha(sha1(upstashScript).toUpperCase())).toBe(sha1(`#!lua${body}`));
    expect(shas.redisSha('f'.repeat(40))).toBe('f'.repeat(40));
  });
});

describe.runIf(redisAvailable)('Upstash REST bridge in front of a real redis-server', () => {
  let server: RedisServer | undefined;
  let bridge: UpstashBridge | undefined;
  let direct: RedisConnection | undefined;

  beforeAll(async () => {
    server = await startRedisServer();
    bridge = await startBridge({ redisUrl: server.url, token: TOKEN });
    direct = new RedisConnection(server.url);
  }, 20_000);

  // Runs whether or not the tests passed; each close is safe after a partial start.
  afterAll(async () => {
    await bridge?.close();
    direct?.close();
    await server?.close();
  });

  /** The bridge without the client: the exact status and JSON on the wire. */
  async function raw(path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
    const res = await fetch(`${bridge!.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...init.headers },
    });
    return { status: res.status, text: await res.text() };
  }
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    raw(path, { method: 'POST', body: JSON.stringify(body), headers });

  /** Redis's own per-command counters, read past the bridge. */
  async function commandStats() {
    const [info] = await direct!.exec([['INFO', 'commandstats']]);
    const stats: Record<string, { calls: number; failed: number }> = {};
    for (const line of String(info).split('\r\n')) {
      const match = /^cmdstat_([^:]+):calls=(\d+),.*failed_calls=(\d+)/.exec(line);
      if (match) stats[match[1]!] = { calls: Number(match[2]), failed: Number(match[3]) };
    }
    return (name: string) => stats[name] ?? { calls: 0, failed: 0 };
  }

  // @upstash/redis 1.39 auto-pipelines by default: the commands of one tick go out together as one
  // POST /pipeline, and a failure reads "Command failed: <error>". With it off, each command is its
  // own POST / and a failure reads "<error>, command was: [...]". Both are run.
  const transports = [
    ['auto-pipelined (the default)', {}],
    ['one request per command', { enableAutoPipelining: false }],
  ] as const;

  describe.each(transports)('@upstash/redis, %s', (_mode, options) => {
    let redis: Redis;
    beforeAll(() => {
      redis = new Redis({ url: bridge!.url, token: TOKEN, ...options });
    });
    const autoPipelined = !('enableAutoPipelining' in options);
    const failure = (text: string) => (autoPipelined ? `Command failed: ${text}` : `${text}, command was: `);

    it('SET with EX, GET, TTL; a missing key is null', async () => {
      const k = key('set');
      expect(await redis.set(k, 'hello', { ex: 100 })).toBe('OK');
      expect(await redis.get(k)).toBe('hello');
      const ttl = await redis.ttl(k);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(100);
      expect(await redis.get(key('missing'))).toBeNull();
      expect(await redis.set(k, 'again', { nx: true })).toBeNull(); // SET NX on an existing key: nil
    });

    it('INCR, INCRBY and DECR answer integers', async () => {
      const k = key('counter');
      expect(await redis.incr(k)).toBe(1);
      expect(await redis.incrby(k, 41)).toBe(42);
      expect(await redis.decr(k)).toBe(41);
      expect(await redis.incrbyfloat(k, 0.5)).toBe(41.5); // a bulk string in RESP2, parsed by the client
    });

    it('hashes: HSET an object, HGETALL it back, a missing field is null', async () => {
      const k = key('hash');
      expect(await redis.hset(k, { name: 'Ada', '2': 'second', age: 36 })).toBe(3);
      expect(await redis.hgetall(k)).toEqual({ name: 'Ada', '2': 'second', age: 36 });
      expect(await redis.hget(k, 'name')).toBe('Ada');
      expect(await redis.hget(k, 'nope')).toBeNull();
      expect(await redis.hgetall(key('no-hash'))).toBeNull();
    });

    it('lists: push, range, pop; a missing list is empty', async () => {
      const k = key('list');
      expect(await redis.rpush(k, 'a', 'b', 'c')).toBe(3);
      expect(await redis.lpush(k, 'z')).toBe(4);
      expect(await redis.lrange(k, 0, -1)).toEqual(['z', 'a', 'b', 'c']);
      expect(await redis.lpop(k)).toBe('z');
      expect(await redis.rpop(k)).toBe('c');
      expect(await redis.llen(k)).toBe(2);
      expect(await redis.lrange(key('no-list'), 0, -1)).toEqual([]);
      expect(await redis.lpop(key('no-list'))).toBeNull();
    });

    it('JSON values the client serialises round-trip; UTF-8 text survives base64', async () => {
      const k = key('json');
      const value = { orderId: 'ord_42', cents: 4999, tags: ['a', 'ü'], nested: { ok: true, none: null } };
      await redis.set(k, value);
      expect(await redis.get(k)).toEqual(value);
      const text = 'héllo ✓ 😀 日本';
      await redis.set(k, text);
      expect(await redis.get(k)).toBe(text);
      await redis.set(k, 'OK'); // the value "OK", not the status: base64 on the wire, "OK" again in the client
      expect(await redis.get(k)).toBe('OK');
    });

    it('nulls and nested arrays: MGET with gaps, EVAL returning nested tables', async () => {
      const [a, b, c] = [key('a'), key('b'), key('c')];
      await redis.mset({ [a]: 'first', [c]: 'third' });
      expect(await redis.mget(a, b, c)).toEqual(['first', null, 'third']);
      const nested = await redis.eval('return {1, {"x", {KEYS[1], 2}}, false, "y"}', [a], []);
      expect(nested).toEqual([1, ['x', [a, 2]], null, 'y']);
    });

    it('pipeline(): results in order, not atomic; a failing command fails only itself', async () => {
      const k = key('pipeline');
      const before = (await commandStats())('multi').calls;
      const failing = redis.pipeline().set(k, 'text').incr(k).get(k);
      await expect(failing.exec()).rejects.toThrow(/Command 2 \[ incr \] failed: ERR value is not an integer or out of range/);
      const results = await redis.pipeline().set(k, 'v').incr(k).get(k).exec({ keepErrors: true });
      expect(results[0]).toEqual({ result: 'OK', error: undefined });
      expect(results[1]?.error).toBe('ERR value is not an integer or out of range');
      expect(results[2]).toEqual({ result: 'v', error: undefined });
      expect((await commandStats())('multi').calls).toBe(before); // no MULTI for a pipeline
    });

    it('multi(): inside MULTI/EXEC; a runtime error fails only its command; a queueing error discards it all', async () => {
      const k = key('multi');
      const stats = await commandStats();
      expect(await redis.multi().set(k, '1').incr(k).get(k).exec()).toEqual(['OK', 2, 2]);
      const after = await commandStats();
      expect(after('multi').calls - stats('multi').calls).toBe(1);
      expect(after('exec').calls - stats('exec').calls).toBe(1);

      const text = key('multi-text');
      const results = await redis.multi().set(text, 'x').incr(text).set(k, 'ran').exec({ keepErrors: true });
      expect(results.map((r) => r.error ?? r.result)).toEqual(['OK', 'ERR value is not an integer or out of range', 'OK']);

      // HSET with no fields is refused while queueing, so Redis discards the whole transaction.
      const discarded = redis.multi().set(k, 'changed').hset(key('h'), {}).exec();
      await expect(discarded).rejects.toThrow(/ERR wrong number of arguments for 'hset' command/);
      expect(await redis.get(k)).toBe('ran');
      expect(await redis.ping()).toBe('PONG'); // the shared connection is out of MULTI again
    });

    it('a wrong token or none is refused with 401 {"error":"Unauthorized"}; ?_token works too', async () => {
      const wrong = new Redis({ url: bridge!.url, token: 'not-the-token' });
      await expect(wrong.get('anything')).rejects.toThrow(/^Unauthorized/);
      const none = await fetch(`${bridge!.url}/`, { method: 'POST', body: '["PING"]' });
      expect(none.status).toBe(401);
      expect(await none.json()).toEqual({ error: 'Unauthorized' });
      const viaQuery = await fetch(`${bridge!.url}/ping?_token=${TOKEN}`);
      expect(await viaQuery.json()).toEqual({ result: 'PONG' });
    });

    it("Redis errors reach the caller as UpstashError with Redis's own text", async () => {
      const k = key('error');
      await redis.set(k, 'abc');
      const error = await redis.incr(k).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).name).toBe('UpstashError');
      expect((error as Error).message.startsWith(failure('ERR value is not an integer or out of range'))).toBe(true);
    });

    it('Upstash Lua scripts (allow-key-locking) run, and are found again by the SHA1 of their own text', async () => {
      const script = '#!lua flags=allow-key-locking\nreturn redis.call("INCR", KEYS[1])';
      const sha = sha1(script);
      const k = key('script');
      // redis-server itself refuses the flag; the bridge is what makes the script runnable.
      const [refused] = await direct!.exec([['EVAL', script, '1', k]]);
      expect((refused as Error).message).toMatch(/Unexpected flag in script shebang: allow-key-locking/);

      expect(await redis.scriptLoad(script)).toBe(sha);
      expect(await redis.scriptExists(sha)).toEqual([1]);
      expect(await redis.evalsha(sha, [k], [])).toBe(1);
      expect(await redis.eval(script, [k], [])).toBe(2);
      expect(await redis.multi().evalsha(sha, [k], []).exec()).toEqual([3]);
    });

    it('EVALSHA of an unknown script: the NOSCRIPT text reaches the client verbatim', async () => {
      const error = await redis.evalsha('0'.repeat(40), [], []).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error?.message.startsWith(failure('NOSCRIPT No matching script. Please use EVAL.'))).toBe(true);
      const results = await redis.pipeline().evalsha('0'.repeat(40), [], []).exec({ keepErrors: true });
      expect(results[0]?.error).toBe('NOSCRIPT No matching script. Please use EVAL.');
    });
  });

  describe('the REST API on the wire', () => {
    it('the exact JSON: base64 strings and a plain OK with Upstash-Encoding, UTF-8 without, integers, null', async () => {
      const k = key('wire');
      const b64 = { 'upstash-encoding': 'base64' };
      expect(await post('/', ['SET', k, 'hi', 'EX', 100], b64)).toEqual({ status: 200, text: '{"result":"OK"}' });
      expect(await post('/', ['GET', k], b64)).toEqual({ status: 200, text: '{"result":"aGk="}' });
      expect(await post('/', ['GET', k])).toEqual({ status: 200, text: '{"result":"hi"}' });
      expect(await post('/', ['GET', key('none')], b64)).toEqual({ status: 200, text: '{"result":null}' });
      expect(await post('/', ['EXISTS', k], b64)).toEqual({ status: 200, text: '{"result":1}' });
      expect(await post('/', ['TYPE', k], b64)).toEqual({ status: 200, text: '{"result":"c3RyaW5n"}' }); // a status, not OK
      // Bytes that are not UTF-8: exact in base64, U+FFFD without it (as Upstash documents).
      const bytes = ['EVAL', 'return string.char(255, 0, 104)', '0'];
      expect(await post('/', bytes, b64)).toEqual({ status: 200, text: '{"result":"/wBo"}' });
      expect(await post('/', bytes)).toEqual({ status: 200, text: '{"result":"\uFFFD\\u0000h"}' });
      // Integers keep every digit, past what a double holds.
      const big = key('big');
      await post('/', ['SET', big, '9007199254740993']);
      expect(await post('/', ['INCR', big])).toEqual({ status: 200, text: '{"result":9007199254740994}' });
      // Numbers in the body are sent as their text.
      expect(await post('/pipeline', [['SET', big, 5], ['INCRBY', big, 2]])).toEqual({ status: 200, text: '[{"result":"OK"},{"result":7}]' });
    });

    it("a Redis error is HTTP 400 with Redis's own text", async () => {
      const k = key('error');
      await post('/', ['SET', k, 'abc']);
      expect(await post('/', ['INCR', k])).toEqual({ status: 400, text: '{"error":"ERR value is not an integer or out of range"}' });
      expect((await post('/', ['NOSUCHCOMMAND'])).text).toMatch(/^\{"error":"ERR unknown command 'NOSUCHCOMMAND'/);
      expect(await post('/', ['EVALSHA', '0'.repeat(40), '0'])).toEqual({ status: 400, text: '{"error":"NOSCRIPT No matching script. Please use EVAL."}' });
    });

    it('the curl form: /COMMAND/arg/... with ?EX=, a POST body as the last argument', async () => {
      const k = key('curl');
      expect(await raw(`/set/${encodeURIComponent(k)}/bar?EX=100`)).toEqual({ status: 200, text: '{"result":"OK"}' });
      expect(Number(JSON.parse((await raw(`/ttl/${encodeURIComponent(k)}`)).text).result)).toBeGreaterThan(0);
      const body = '{"a":[1,2]} and / slashes';
      expect((await raw(`/set/${encodeURIComponent(k)}`, { method: 'POST', body })).status).toBe(200);
      expect(await raw(`/get/${encodeURIComponent(k)}`)).toEqual({ status: 200, text: JSON.stringify({ result: body }) });
    });

    it('commands that would block or change the shared connection are refused, and it keeps working', async () => {
      for (const command of [['BLPOP', key('q'), '1'], ['SELECT', '1'], ['SUBSCRIBE', 'chan'], ['XREAD', 'BLOCK', '0', 'STREAMS', 's', '$']]) {
        const { status, text } = await post('/', command);
        expect(status).toBe(400);
        expect(JSON.parse(text).error).toMatch(/^ERR \w+( BLOCK)? is not supported by the local Upstash bridge/);
      }
      expect((await post('/multi-exec', [['SET', key('x'), '1'], ['WATCH', 'k']])).status).toBe(400);
      expect((await raw('/subscribe/chan')).status).toBe(400);
      expect(await post('/', ['PING'])).toEqual({ status: 200, text: '{"result":"PONG"}' });
    });

    it('the @upstash/redis/cloudflare build (what the gateway bundles) works the same', async () => {
      const cf = new CloudflareRedis({ url: bridge!.url, token: TOKEN });
      const k = key('cloudflare');
      await cf.set(k, { hello: 'edge' }, { ex: 60 });
      expect(await cf.get(k)).toEqual({ hello: 'edge' });
      expect(await cf.pipeline().incr(key('cf')).exec()).toEqual([1]);
    });
  });

  describe.each(transports)('@upstash/ratelimit on @upstash/redis, %s', (_mode, options) => {
    let redis: Redis;
    beforeAll(() => {
      redis = new Redis({ url: bridge!.url, token: TOKEN, ...options });
    });

    // Its single-region algorithms each run one Lua script per limit() call, and Redis runs
    // scripts one at a time, so concurrent calls cannot both take the last token: with a fresh
    // identifier, a one-day window (no window boundary and no refill during the test) and the
    // default 5 s timeout never reached (a timed-out call is let through, reason "timeout"),
    // exactly `limit` of the calls succeed, whatever their number.
    const limit = 7;
    const calls = 24;
    it.each([
      ['fixedWindow', Ratelimit.fixedWindow(limit, '1 d')],
      ['slidingWindow', Ratelimit.slidingWindow(limit, '1 d')],
      ['tokenBucket', Ratelimit.tokenBucket(1, '1 d', limit)],
    ])(`%s: ${calls} concurrent limit() calls against a limit of ${limit} admit exactly ${limit}`, async (_name, limiter) => {
      const ratelimit = new Ratelimit({ redis, limiter, prefix: key('ratelimit') });
      const results = await Promise.all(Array.from({ length: calls }, () => ratelimit.limit('user-1')));
      await Promise.all(results.map((r) => r.pending));
      expect(results.filter((r) => r.reason === 'timeout')).toEqual([]);
      const admitted = results.filter((r) => r.success);
      expect(admitted).toHaveLength(limit);
      expect(admitted.map((r) => r.remaining).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect((await ratelimit.limit('user-1')).success).toBe(false);
      expect((await ratelimit.limit('user-2')).success).toBe(true); // a limit is per identifier
    });

    it('after SCRIPT FLUSH, EVALSHA fails with NOSCRIPT, the client falls back to EVAL once, then EVALSHA hits again', async () => {
      const ratelimit = new Ratelimit({ redis, limiter: Ratelimit.fixedWindow(limit, '1 d'), prefix: key('flush') });
      expect((await ratelimit.limit('warm-up')).success).toBe(true);
      expect(await redis.scriptFlush()).toBe('OK');

      const before = await commandStats();
      expect((await ratelimit.limit('user')).success).toBe(true);
      const fellBack = await commandStats();
      expect(fellBack('evalsha').failed - before('evalsha').failed).toBe(1); // NOSCRIPT
      expect(fellBack('eval').calls - before('eval').calls).toBe(1); // the fallback

      const second = await ratelimit.limit('user');
      expect(second).toMatchObject({ success: true, remaining: limit - 2 });
      const cached = await commandStats();
      expect(cached('evalsha').calls - fellBack('evalsha').calls).toBe(1);
      expect(cached('evalsha').failed).toBe(fellBack('evalsha').failed); // found by its SHA1 again
      expect(cached('eval').calls).toBe(fellBack('eval').calls);
    });
  });

  it('Redis gone: 503 with the reason at once, not a hang; startBridge refuses a Redis it cannot reach', async () => {
    const doomed = await startRedisServer();
    const doomedBridge = await startBridge({ redisUrl: doomed.url, token: TOKEN });
    try {
      await doomed.close();
      const res = await fetch(`${doomedBridge.url}/`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: '["PING"]' });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: string }).error).toMatch(/^ERR the local Upstash bridge cannot reach Redis: the connection to Redis at 127\.0\.0\.1:\d+ closed/);
      await expect(startBridge({ redisUrl: doomed.url, token: TOKEN })).rejects.toThrow(/cannot use Redis at redis:\/\/127\.0\.0\.1:\d+/);
    } finally {
      await doomedBridge.close();
      await doomed.close();
    }
  });
});
