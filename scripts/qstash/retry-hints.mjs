// What a failed delivery's answer says about the retry, as QStash reads it: `489` with
// `Upstash-NonRetryable-Error: true` means "never retry" (the message goes to the DLQ at once), and
// `Retry-After` / `X-RateLimit-Reset*` say when to come back, instead of the backoff for that
// retry, capped at one day (QStash's longest backoff).

export const MAX_RETRY_HINT_MS = 86_400_000;

/** True if the destination refused the message for good: 489 and Upstash-NonRetryable-Error: true. */
export function isNonRetryable(outcome) {
  if (outcome.status !== 489) return false;
  return headerValues(outcome.headers, 'upstash-nonretryable-error').some((value) => value.trim().toLowerCase() === 'true');
}

/**
 * The wait the answer asks for, in milliseconds (0 to one day), or undefined when it asks for
 * none. Read from:
 * - `Retry-After`: seconds, an HTTP date (RFC 9110), or a duration ("2s", "1m30s");
 * - `X-RateLimit-Reset`: a unix time (seconds, or milliseconds if it is that large), else seconds
 *   from now, or a duration;
 * - `X-RateLimit-Reset-Requests` / `-Tokens` (and any other `X-RateLimit-Reset-*`): a duration or
 *   seconds, as OpenAI-style APIs send them ("6m0s", "20ms", "1.5").
 * When several are given, the longest wins: every limit the destination named has then reset. A
 * time already past is 0 (retry at once). Which of several hints QStash prefers is not documented;
 * the longest is the side that never comes back too early.
 */
export function retryHintMs(headers, now = Date.now()) {
  const waits = [];
  for (const value of headerValues(headers, 'retry-after')) waits.push(retryAfter(value, now));
  for (const [name, value] of headers ?? []) {
    const lower = name.toLowerCase();
    if (lower === 'x-ratelimit-reset') waits.push(rateLimitReset(value, now));
    else if (lower.startsWith('x-ratelimit-reset-')) waits.push(secondsOrDuration(value));
  }
  const known = waits.filter((wait) => wait !== undefined);
  if (known.length === 0) return undefined;
  return Math.min(MAX_RETRY_HINT_MS, Math.max(0, ...known));
}

function retryAfter(value, now) {
  const text = value.trim();
  const seconds = secondsOrDuration(text);
  if (seconds !== undefined) return seconds;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function rateLimitReset(value, now) {
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) {
    const number = Number(text);
    // A number this large is a point in time, not a wait: 1e9 s is 2001, 1e12 ms is 2001 too.
    if (number >= 1e12) return Math.max(0, number - now);
    if (number >= 1e9) return Math.max(0, number * 1_000 - now);
    return number * 1_000;
  }
  return goDuration(text);
}

/** "2", "1.5" (seconds) or a duration ("2s", "1m30s", "250ms"); undefined for anything else. */
function secondsOrDuration(value) {
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1_000;
  return goDuration(text);
}

const GO_UNIT_MS = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * A duration as Go's time.ParseDuration writes them ("1m30s", "250ms", "1.5s"), the form rate-limit
 * headers of APIs written in Go (and OpenAI's) use. Only for reading answers: what a publisher may
 * send is the stricter parseDuration in timing.mjs.
 */
function goDuration(text) {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, amount, , unit] of text.matchAll(/(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(amount) * GO_UNIT_MS[unit];
  return total;
}

function headerValues(headers, wanted) {
  return (headers ?? []).filter(([name]) => name.toLowerCase() === wanted).map(([, value]) => value);
}
