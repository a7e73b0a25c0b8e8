// Waiting for a state in set-up and checks (never inside a measurement): read, test, wait, with a
// deadline, so a run never sleeps a guessed time and never waits for ever.

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `read` every `intervalMs` until `done(value)`; answers that value. Past `timeoutMs` it
 * throws, naming `what`.
 */
export async function pollUntil(what, read, done, { timeoutMs, intervalMs }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms`);
    await delay(intervalMs);
  }
}
