// The Upstash REST wire format, for the local bridge (scripts/upstash-redis-bridge.mjs): what a
// JSON command becomes on its way to Redis, and what a Redis reply becomes in Upstash's JSON.
import { RedisReplyError } from './resp.mjs';

// Every request shares one Redis connection, so commands that would leave state on it, stream on
// it, or block it are refused with a 400 that says why, instead of quietly breaking later requests.
const reasons = {
  state: 'each request stands alone, so connection state cannot carry over (use /multi-exec for a transaction)',
  stream: 'it streams replies, which this bridge does not relay',
  blocking: 'a blocking command would hold up every other request on the shared Redis connection',
  shutdown: 'stop redis-server yourself',
};
const UNSUPPORTED = new Map([
  ...['SELECT', 'MULTI', 'EXEC', 'DISCARD', 'WATCH', 'UNWATCH', 'AUTH', 'HELLO', 'QUIT', 'RESET', 'CLIENT'].map((c) => [c, reasons.state]),
  ...['SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'UNSUBSCRIBE', 'PUNSUBSCRIBE', 'SUNSUBSCRIBE', 'MONITOR', 'SYNC', 'PSYNC'].map((c) => [c, reasons.stream]),
  ...['BLPOP', 'BRPOP', 'BRPOPLPUSH', 'BLMOVE', 'BLMPOP', 'BZPOPMIN', 'BZPOPMAX', 'BZMPOP', 'WAIT', 'WAITAOF'].map((c) => [c, reasons.blocking]),
  ['SHUTDOWN', reasons.shutdown],
]);

/** A request the bridge answers itself, with this status and {"error": message}. */
export class RestError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export const errorBody = (message) => JSON.stringify({ error: message });

/** One Redis reply as Upstash's JSON. `top` is the reply itself rather than an element of it. */
export function encodeReply(reply, base64, top = true) {
  if (reply === null || reply === undefined) return 'null';
  if (typeof reply === 'bigint') return reply.toString();
  if (Buffer.isBuffer(reply)) return JSON.stringify(base64 ? reply.toString('base64') : reply.toString('utf8'));
  if (typeof reply === 'string') {
    // Upstash's docs: all strings base64 "except for the OK response"; the client passes a
    // top-level "OK" through undecoded and decodes every other string.
    return JSON.stringify(base64 && !(top && reply === 'OK') ? Buffer.from(reply).toString('base64') : reply);
  }
  if (Array.isArray(reply)) return `[${reply.map((item) => encodeReply(item, base64, false)).join(',')}]`;
  // An error inside an array (a Lua table holding redis.error_reply) has no Upstash form; its text
  // is the most useful thing to hand on.
  if (reply instanceof RedisReplyError) return encodeReply(reply.message, base64, false);
  throw new TypeError(`cannot encode a reply of type ${typeof reply}`);
}

/** A command from a JSON body: strings as they are, numbers and booleans as their text. */
export function commandFromJson(value) {
  if (!Array.isArray(value) || value.length === 0) {
    throw new RestError(400, 'ERR a command is a non-empty JSON array, like ["GET","key"]');
  }
  return value.map((arg) => {
    if (typeof arg === 'string') return arg;
    if (typeof arg === 'number' || typeof arg === 'boolean') return String(arg);
    throw new RestError(400, 'ERR command arguments must be strings, numbers or booleans');
  });
}

export function commandsFromJson(value) {
  if (!Array.isArray(value) || value.length === 0) {
    throw new RestError(400, 'ERR send a non-empty JSON array of commands, like [["SET","k","v"],["GET","k"]]');
  }
  return value.map(commandFromJson);
}

export function parseJson(body) {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new RestError(400, 'ERR the request body is not valid JSON');
  }
}

const text = (arg) => (Buffer.isBuffer(arg) ? arg.toString('utf8') : arg);

/**
 * A command as it goes to Redis: `{ args, fix? }`, where `fix` adjusts its reply on the way back,
 * or `{ error }` when the bridge will not send it.
 */
export function prepare(command, shas) {
  const name = text(command[0]).toUpperCase();
  const unsupported = UNSUPPORTED.get(name);
  if (unsupported) return { error: `ERR ${name} is not supported by the local Upstash bridge: ${unsupported}` };
  if ((name === 'XREAD' || name === 'XREADGROUP') && command.some((arg) => text(arg).toUpperCase() === 'BLOCK')) {
    return { error: `ERR ${name} BLOCK is not supported by the local Upstash bridge: ${reasons.blocking}` };
  }
  const args = [...command];
  if ((name === 'EVAL' || name === 'EVAL_RO') && args.length > 1) {
    args[1] = shas.forRedis(text(args[1])).script;
  } else if ((name === 'EVALSHA' || name === 'EVALSHA_RO') && args.length > 1) {
    args[1] = shas.redisSha(text(args[1]));
  } else if (name === 'SCRIPT' && args.length > 2) {
    const sub = text(args[1]).toUpperCase();
    if (sub === 'LOAD') {
      const { script, clientSha } = shas.forRedis(text(args[2]));
      args[2] = script;
      // Redis answers with the rewritten script's SHA1; the client expects the one of its text.
      if (clientSha) return { args, fix: (reply) => (Buffer.isBuffer(reply) ? Buffer.from(clientSha) : reply) };
    } else if (sub === 'EXISTS') {
      for (let i = 2; i < args.length; i++) args[i] = shas.redisSha(text(args[i]));
    }
  }
  return { args };
}

/** One entry of a /pipeline or /multi-exec answer. */
export const resultItem = (prepared, reply, base64) => {
  const value = prepared.fix ? prepared.fix(reply) : reply;
  return value instanceof RedisReplyError ? errorBody(value.message) : `{"result":${encodeReply(value, base64)}}`;
};
