#!/usr/bin/env node
// A local stand-in for Upstash Redis's REST API, in front of a real redis-server, so the Upstash
// code path (@upstash/redis, @upstash/ratelimit) runs on a laptop and in CI with no account.
//
//   node scripts/upstash-redis-bridge.mjs --redis redis://127.0.0.1:6379 --port 8079 --token dev-upstash-token
//   then UPSTASH_REDIS_REST_URL=http://127.0.0.1:8079 UPSTASH_REDIS_REST_TOKEN=dev-upstash-token
//
// It speaks the API as @upstash/redis 1.39 uses it (read from its source: it always POSTs JSON, and
// by default auto-pipelines, so most traffic is POST /pipeline) and as
// https://upstash.com/docs/redis/features/restapi describes it:
// - POST / with ["SET","k","v"]            -> 200 {"result":...} | 400 {"error":"ERR ..."}
// - POST /pipeline with [[...],[...]]      -> 200 [{"result":...},{"error":"..."}], in order, not atomic
// - POST /multi-exec with [[...],[...]]    -> the same inside MULTI/EXEC (atomic); a transaction
//   Redis discards as a whole (a command refused while queueing) -> 400 {"error":"..."}
// - GET|POST /set/k/v?EX=10 (the curl form; a POST body is appended as the last argument)
// - Authorization: Bearer <token>, or ?_token=<token>; otherwise 401 {"error":"Unauthorized"}
// - Upstash-Encoding: base64 (the client's default): every string in the result is base64 of
//   Redis's bytes, except a top-level "OK" status. Without it, strings are UTF-8 (invalid bytes
//   become U+FFFD). Integers are JSON numbers (exact digits, also past 2^53), nil is null,
//   arrays nest as Redis nests them.
// - Scripts: EVAL/EVALSHA/SCRIPT pass through; Redis's NOSCRIPT error text reaches the client,
//   which is what @upstash/ratelimit's EVALSHA -> EVAL fallback looks for. See upstash-lua.mjs for
//   the one shebang flag Upstash accepts and Redis does not.
// Not bridged: SSE endpoints (/subscribe, /psubscribe, /monitor), the resp2 response format,
// read-only tokens, upstash-sync-token, and commands that would hold or change the one shared
// Redis connection (listed in UNSUPPORTED in upstash-rest.mjs).
import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { RedisConnection, RedisConnectionError, RedisReplyError } from './resp.mjs';
import { ScriptShas } from './upstash-lua.mjs';
import { commandFromJson, commandsFromJson, encodeReply, errorBody, parseJson, prepare, RestError, resultItem } from './upstash-rest.mjs';
import { readBody } from './read-body.mjs';

const MAX_BODY_BYTES = 64 * 1024 * 1024;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT']);
const STREAMING_ENDPOINTS = new Set(['subscribe', 'psubscribe', 'monitor']);

/** The HTTP side: turns one request into Redis commands and their replies into Upstash's JSON. */
function createHandler({ redis, token, shas }) {
  const expected = createHash('sha256').update(token).digest();
  const authorized = (req, url) => {
    const header = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const given = header?.[1].trim() ?? url.searchParams.get('_token');
    return given != null && timingSafeEqual(createHash('sha256').update(given).digest(), expected);
  };

  async function single(command, base64) {
    const prepared = prepare(command, shas);
    if (prepared.error) return [400, errorBody(prepared.error)];
    const [reply] = await redis.exec([prepared.args]);
    const value = prepared.fix ? prepared.fix(reply) : reply;
    if (value instanceof RedisReplyError) return [400, errorBody(value.message)];
    return [200, `{"result":${encodeReply(value, base64)}}`];
  }

  async function pipeline(commands, base64) {
    const prepared = commands.map((command) => prepare(command, shas));
    const sent = prepared.filter((p) => !p.error);
    const replies = await redis.exec(sent.map((p) => p.args));
    let next = 0;
    const items = prepared.map((p) => (p.error ? errorBody(p.error) : resultItem(p, replies[next++], base64)));
    return [200, `[${items.join(',')}]`];
  }

  async function transaction(commands, base64) {
    const prepared = commands.map((command) => prepare(command, shas));
    const refused = prepared.find((p) => p.error);
    if (refused) return [400, errorBody(refused.error)];
    // MULTI, the commands and EXEC go out in one write on the one connection, so nothing else
    // can run between them, and the connection is out of MULTI again when the replies are in.
    const replies = await redis.exec([['MULTI'], ...prepared.map((p) => p.args), ['EXEC']]);
    const exec = replies.at(-1);
    // A command Redis refused while queueing (unknown, wrong arity) discards the whole
    // transaction; its own error says why better than EXECABORT does.
    const queueError = replies.slice(0, -1).find((reply) => reply instanceof RedisReplyError);
    if (queueError) return [400, errorBody(queueError.message)];
    if (exec instanceof RedisReplyError) return [400, errorBody(exec.message)];
    if (!Array.isArray(exec)) return [400, errorBody('ERR the transaction was aborted')];
    return [200, `[${exec.map((reply, i) => resultItem(prepared[i], reply, base64)).join(',')}]`];
  }

  async function route(req, url, body) {
    const format = String(req.headers['upstash-response-format'] ?? 'json').toLowerCase();
    if (format !== 'json') throw new RestError(400, `ERR Upstash-Response-Format ${format} is not supported by the local bridge; only json is`);
    const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
    let segments;
    try {
      segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      throw new RestError(400, 'ERR the request path is not validly percent-encoded');
    }
    if (segments.length === 0) {
      if (body.length === 0) throw new RestError(400, 'ERR no command: POST a JSON array like ["GET","key"]');
      return single(commandFromJson(parseJson(body)), base64);
    }
    if (segments.length === 1 && segments[0] === 'pipeline') return pipeline(commandsFromJson(parseJson(body)), base64);
    if (segments.length === 1 && segments[0] === 'multi-exec') return transaction(commandsFromJson(parseJson(body)), base64);
    if (STREAMING_ENDPOINTS.has(segments[0].toLowerCase())) {
      throw new RestError(400, `ERR /${segments[0]} (server-sent events) is not supported by the local Upstash bridge`);
    }
    // The curl form: /COMMAND/arg/..., a body as the last argument, then ?EX=100 as "EX" "100".
    const command = [...segments];
    if (body.length > 0) command.push(body);
    for (const [key, value] of url.searchParams) {
      if (key === '_token') continue;
      command.push(key);
      if (value !== '') command.push(value);
    }
    return single(command, base64);
  }

  return async (req, res) => {
    const reply = (status, json, headers = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), ...headers });
      res.end(json);
    };
    try {
      const url = new URL(`http://bridge.invalid${req.url ?? '/'}`); // not new URL(path, base): '//x' is a host there
      if (!METHODS.has(req.method ?? '')) {
        return reply(405, errorBody('ERR method not allowed'), { allow: [...METHODS].join(', ') });
      }
      // Upstash's answer to a missing or wrong token (the client shows "UpstashError: Unauthorized").
      if (!authorized(req, url)) return reply(401, errorBody('Unauthorized'));
      const body = await readBody(req, { maxBytes: MAX_BODY_BYTES, error: (status, message) => new RestError(status, `ERR ${message}`) });
      const [status, json] = await route(req, url, body);
      reply(status, json);
    } catch (error) {
      if (error instanceof RestError) {
        return reply(error.status, errorBody(error.message), error.status === 413 ? { connection: 'close' } : {});
      }
      if (error instanceof RedisConnectionError) {
        return reply(503, errorBody(`ERR the local Upstash bridge cannot reach Redis: ${error.message}`));
      }
      console.error(error);
      reply(500, errorBody(`ERR the local Upstash bridge failed: ${error.message}`));
    }
  };
}


/**
 * Starts the bridge. Fails at once if Redis does not answer PING, so a wrong URL shows up here
 * rather than as 503s later.
 * @returns {Promise<{ url: string, token: string, close(): Promise<void> }>}
 */
export async function startBridge({ redisUrl, token, port = 0, host = '127.0.0.1' }) {
  if (!redisUrl) throw new Error('startBridge needs redisUrl, e.g. redis://127.0.0.1:6379');
  if (!token) throw new Error('startBridge needs a token');
  const redis = new RedisConnection(redisUrl);
  try {
    const [pong] = await redis.exec([['PING']]);
    if (pong instanceof RedisReplyError) throw new Error(`Redis answered PING with ${pong.message}`);
  } catch (error) {
    redis.close();
    throw new Error(`cannot use Redis at ${redisUrl}: ${error.message}`);
  }
  const server = createServer(createHandler({ redis, token, shas: new ScriptShas() }));
  try {
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, resolve);
    });
  } catch (error) {
    redis.close();
    throw error;
  }
  const { port: boundPort } = /** @type {import('node:net').AddressInfo} */ (server.address());
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${boundPort}`,
    token,
    async close() {
      await new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      redis.close();
    },
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
      port: { type: 'string', default: '8079' },
      host: { type: 'string', default: '127.0.0.1' },
      token: { type: 'string', default: process.env.UPSTASH_REDIS_REST_TOKEN || 'dev-upstash-token' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: node scripts/upstash-redis-bridge.mjs [--redis redis://127.0.0.1:6379] [--port 8079] [--host 127.0.0.1] [--token T]');
    return;
  }
  const bridge = await startBridge({ redisUrl: values.redis, token: values.token, port: Number(values.port), host: values.host });
  console.log(`Upstash REST bridge on ${bridge.url} -> ${values.redis}`);
  console.log(`  UPSTASH_REDIS_REST_URL=${bridge.url}`);
  console.log(`  UPSTASH_REDIS_REST_TOKEN=${bridge.token}`);
  const stop = () => bridge.close().then(() => process.exit(0));
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
