// A minimal RESP2 client: the Redis side of the local Upstash REST bridge
// (scripts/upstash-redis-bridge.mjs).
//
// Why not node-redis or ioredis: a protocol bridge must hand on each reply exactly as Redis sent
// it, and both libraries reshape replies in ways that change what the HTTP client would see
// (checked against redis-server 7.0, @redis/client 6.3 and ioredis 6.0):
// - ioredis turns an HGETALL reply into an object by command name, even through `call`/`callBuffer`
//   (field order changes for numeric-looking fields, binary field names are lost);
// - node-redis decodes the reply of EXEC without the caller's type mapping, so inside a
//   transaction binary values arrive as lossy UTF-8 strings and large integers as JS numbers.
// RESP2 itself is five reply types, so a parser that keeps all of them is shorter than the code
// needed to undo either library. What it keeps:
//   +status  -> string          (kept apart from bulk strings: "OK" the status is not "OK" the value)
//   $bulk    -> Buffer          (raw bytes; null for $-1)
//   :integer -> bigint          (exact, also past 2^53)
//   *array   -> Array           (null for *-1; nesting kept)
//   -error   -> RedisReplyError (Redis's own text, e.g. "NOSCRIPT No matching script. ...")
import { connect } from 'node:net';

/** An error reply from Redis. Returned as a value, not thrown: in a pipeline it is one result of many. */
export class RedisReplyError extends Error {
  name = 'RedisReplyError';
}

/** Redis could not be reached, or the connection dropped before the replies came. */
export class RedisConnectionError extends Error {
  name = 'RedisConnectionError';
}

const CRLF = Buffer.from('\r\n');

/** RESP2 request bytes for one command: an array of bulk strings. */
export function encodeCommand(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg));
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

/**
 * Parses one reply starting at `start`. Returns `{ value, end }`, or, when `buf` ends too soon, the
 * smallest total buffer length that could hold it (so the caller waits instead of re-parsing a
 * large reply on every small chunk).
 */
function parseReply(buf, start) {
  const lineEnd = buf.indexOf(CRLF, start);
  if (lineEnd === -1) return buf.length + 1;
  const line = buf.toString('utf8', start + 1, lineEnd);
  const next = lineEnd + 2;
  switch (buf[start]) {
    case 0x2b: // '+'
      return { value: line, end: next };
    case 0x2d: // '-'
      return { value: new RedisReplyError(line), end: next };
    case 0x3a: // ':'
      return { value: BigInt(line), end: next };
    case 0x24: { // '$'
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      const end = next + length + 2;
      if (buf.length < end) return end;
      return { value: buf.subarray(next, next + length), end };
    }
    case 0x2a: { // '*'
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, at);
        if (typeof item === 'number') return item;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(`not a RESP2 reply (type byte 0x${buf[start].toString(16)})`);
  }
}

/** Turns a byte stream into whole replies, however the stream was cut into chunks. */
export class RespParser {
  #chunks = [];
  #length = 0;
  #need = 0;

  /** @returns the replies completed by this chunk, oldest first */
  push(chunk) {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    if (this.#length < this.#need) return [];
    const buf = this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks, this.#length);
    const replies = [];
    let offset = 0;
    this.#need = 0;
    while (offset < buf.length) {
      const reply = parseReply(buf, offset);
      if (typeof reply === 'number') {
        this.#need = reply - offset;
        break;
      }
      replies.push(reply.value);
      offset = reply.end;
    }
    const rest = buf.subarray(offset);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#length = rest.length;
    return replies;
  }
}

/**
 * One connection to Redis, opened on first use and again after it drops. Every `exec` writes its
 * commands in one go and gets their replies in order, so a batch (MULTI ... EXEC included) is
 * never interleaved with another caller's commands. No offline queue: if Redis is unreachable
 * the call fails at once, and the bridge says so.
 */
export class RedisConnection {
  #url;
  #host;
  #port;
  #setup = [];
  #socket = null;
  #parser = null;
  #pending = [];
  #closed = false;

  constructor(redisUrl, { connectTimeoutMs = 5_000 } = {}) {
    const url = new URL(redisUrl);
    if (url.protocol !== 'redis:') throw new Error(`only redis:// URLs are supported, not ${url.protocol}//`);
    this.#url = redisUrl;
    this.#host = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
    this.#port = Number(url.port || 6379);
    this.connectTimeoutMs = connectTimeoutMs;
    if (url.password) {
      const password = decodeURIComponent(url.password);
      this.#setup.push(url.username ? ['AUTH', decodeURIComponent(url.username), password] : ['AUTH', password]);
    }
    const db = url.pathname.replace(/^\//, '');
    if (db && db !== '0') this.#setup.push(['SELECT', db]);
  }

  get url() {
    return this.#url;
  }

  /** @param {(string | Buffer)[][]} commands @returns {Promise<unknown[]>} one reply per command */
  exec(commands) {
    if (this.#closed) return Promise.reject(new RedisConnectionError('the Redis connection is closed'));
    if (commands.length === 0) return Promise.resolve([]);
    const socket = this.#socket ?? this.#open();
    return new Promise((resolve, reject) => {
      this.#pending.push({ count: commands.length, replies: [], resolve, reject });
      socket.write(Buffer.concat(commands.map(encodeCommand)));
    });
  }

  close() {
    this.#closed = true;
    this.#socket?.destroy();
  }

  #open() {
    const socket = connect({ host: this.#host, port: this.#port });
    this.#socket = socket;
    this.#parser = new RespParser();
    socket.setNoDelay(true);
    socket.setTimeout(this.connectTimeoutMs, () => socket.destroy(new Error(`no connection within ${this.connectTimeoutMs} ms`)));
    socket.once('connect', () => socket.setTimeout(0));
    socket.on('data', (chunk) => {
      let replies;
      try {
        replies = this.#parser.push(chunk);
      } catch (error) {
        socket.destroy(error);
        return;
      }
      for (const reply of replies) this.#deliver(reply);
    });
    let lastError = null;
    socket.on('error', (error) => {
      lastError = error; // 'close' follows and fails whatever is pending
    });
    socket.once('close', () => {
      if (this.#socket === socket) this.#socket = null;
      const why = lastError ? `: ${lastError.message}` : '';
      const error = new RedisConnectionError(`the connection to Redis at ${this.#host}:${this.#port} closed${why}`);
      for (const waiting of this.#pending.splice(0)) waiting.reject(error);
    });
    // AUTH and SELECT from the URL go first on every new connection; if either fails, the
    // connection is useless, so it is dropped and the caller sees why.
    if (this.#setup.length > 0) {
      this.#pending.push({
        count: this.#setup.length,
        replies: [],
        resolve: (replies) => {
          const failed = replies.find((reply) => reply instanceof RedisReplyError);
          if (failed) socket.destroy(failed);
        },
        reject: () => {},
      });
      socket.write(Buffer.concat(this.#setup.map(encodeCommand)));
    }
    return socket;
  }

  #deliver(reply) {
    const waiting = this.#pending[0];
    if (!waiting) {
      this.#socket?.destroy(new Error('Redis sent a reply nobody asked for'));
      return;
    }
    waiting.replies.push(reply);
    if (waiting.replies.length === waiting.count) {
      this.#pending.shift();
      waiting.resolve(waiting.replies);
    }
  }
}
