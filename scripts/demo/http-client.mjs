// The demo's HTTP calls against the gateway: each answer read whole (status, headers, JSON or
// text body, time taken), and polling with a deadline instead of fixed sleeps.
import { pollUntil as poll } from '../poll-until.mjs';

/** Thrown when a step sees something other than what it promises; the message says what. */
export class DemoFailure extends Error {}

/** Fails the step with `why` unless `condition` holds. */
export function expectThat(condition, why) {
  if (!condition) throw new DemoFailure(why);
}

const REQUEST_TIMEOUT_MS = 10_000;

/**
 * A client for one gateway. `token` signs the call in as a user, `admin` as the operator;
 * `body` is sent as JSON. The answer's body is parsed when it is JSON.
 */
export function gatewayClient(baseUrl, adminToken) {
  return async function call(method, path, { token, admin = false, body, headers = {} } = {}) {
    const sent = { ...headers };
    if (token) sent.authorization = `Bearer ${token}`;
    if (admin) sent.authorization = `Bearer ${adminToken}`;
    if (body !== undefined) sent['content-type'] = 'application/json';
    const started = performance.now();
    const response = await fetch(new URL(path, baseUrl), {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    const ms = Math.round(performance.now() - started);
    const json = (response.headers.get('content-type') ?? '').includes('json');
    let parsed = text;
    if (json && text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not JSON after all: keep the text, the step shows it.
      }
    }
    return { status: response.status, headers: response.headers, body: parsed, ms };
  };
}

/**
 * Reads until `done(value)` or the deadline (scripts/poll-until.mjs); fails the step with `what`
 * and the last value read. `read` may answer `{ retryAfterMs }` to be called again after that long.
 */
export const pollUntil = (what, read, done, options) => poll(what, read, done, { ...options, fail: (message) => new DemoFailure(message) });

/** How long a 429 asks to wait, in milliseconds (at least `floorMs`). */
export const retryAfterMs = (answer, floorMs = 500) => Math.max(floorMs, Number(answer.headers.get('retry-after') ?? 1) * 1000);
