// Waiting for a state without sleeping a guessed time: read, test, wait, with a deadline. For the
// processes that drive a running suite from outside (the demo, the benchmarks), which can only
// learn that something happened by asking again.

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `read` until `done(value)` holds and answers that value. Between reads it waits
 * `intervalMs`, or `value.retryAfterMs` when the value asks for that (a 429's Retry-After). Past
 * `timeoutMs` it throws `fail(message)` (an Error unless given), naming `what` and the last value.
 */
export async function pollUntil(what, read, done, { timeoutMs, intervalMs = 250, fail = (message) => new Error(message) }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw fail(`${what}: not reached within ${timeoutMs / 1000} s (last: ${String(JSON.stringify(value)).slice(0, 200)})`);
    await delay(value?.retryAfterMs ?? intervalMs);
  }
}
