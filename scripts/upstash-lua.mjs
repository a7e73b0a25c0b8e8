// Lua scripts written for Upstash, made runnable on a real redis-server, for the local Upstash
// REST bridge (scripts/upstash-redis-bridge.mjs).
//
// Upstash accepts a shebang flag Redis does not: `allow-key-locking`, its opt-in to per-key
// locking for scripts (https://upstash.com/docs/redis/features/key-locking). @upstash/ratelimit 2.x
// starts every script with `#!lua flags=allow-key-locking`, and redis-server 7 refuses them:
// "ERR Unexpected flag in script shebang: allow-key-locking". Redis runs each script alone, so
// dropping the flag changes no outcome (the bridge does not enforce Upstash's rule that such a
// script touches only keys passed in KEYS).
//
// Dropping it changes the script's SHA1, and the client calls EVALSHA with the SHA1 of the text
// it holds. So the bridge remembers, per script it rewrote, which SHA1 Redis knows it by, and
// translates EVALSHA, SCRIPT EXISTS and the answer of SCRIPT LOAD. Without that, every EVALSHA
// would miss and @upstash/ratelimit would send the whole script on every call.
import { createHash } from 'node:crypto';

const UPSTASH_ONLY_FLAGS = new Set(['allow-key-locking']);
// Enough for any real set of scripts; if it ever fills, it starts over, and the worst that does is
// one NOSCRIPT, after which the client sends the script again (its own fallback).
const MAX_REMEMBERED = 10_000;

export const sha1 = (text) => createHash('sha1').update(text).digest('hex');

/** The script with Upstash-only shebang flags removed; the same string when there are none. */
export function redisCompatibleScript(script) {
  if (!script.startsWith('#!')) return script;
  const lineEnd = script.indexOf('\n');
  const shebang = lineEnd === -1 ? script : script.slice(0, lineEnd);
  const words = shebang.split(' ');
  const kept = words.flatMap((word) => {
    if (!word.startsWith('flags=')) return [word];
    const flags = word.slice('flags='.length).split(',').filter((flag) => !UPSTASH_ONLY_FLAGS.has(flag));
    // "#!lua" alone is still a shebang script, the same as "#!lua flags=" with no flags.
    return flags.length > 0 ? [`flags=${flags.join(',')}`] : [];
  });
  if (kept.length === words.length && kept.every((word, i) => word === words[i])) return script;
  return kept.join(' ') + (lineEnd === -1 ? '' : script.slice(lineEnd));
}

/** Upstash SHA1 (of the text the client holds) -> the SHA1 Redis knows the rewritten script by. */
export class ScriptShas {
  #toRedis = new Map();

  /** Rewrites the script if it needs it, remembering both SHA1s. */
  forRedis(script) {
    const rewritten = redisCompatibleScript(script);
    if (rewritten === script) return { script, clientSha: null };
    const clientSha = sha1(script);
    if (this.#toRedis.size >= MAX_REMEMBERED) this.#toRedis.clear();
    this.#toRedis.set(clientSha, sha1(rewritten));
    return { script: rewritten, clientSha };
  }

  /** The SHA1 to send to Redis for one the client sent. */
  redisSha(sha) {
    return this.#toRedis.get(sha.toLowerCase()) ?? sha;
  }
}
