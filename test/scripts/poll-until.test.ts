import { describe, expect, it } from 'vitest';
import { pollUntil } from '../../scripts/poll-until.mjs';

/** scripts/poll-until.mjs: the demo's and the benchmarks' one way of waiting for a state. */
describe('pollUntil', () => {
  it('reads until done and answers the value that was done', async () => {
    let reads = 0;
    const value = await pollUntil('three reads', () => ++reads, (n) => n >= 3, { timeoutMs: 5_000, intervalMs: 1 });
    expect(value).toBe(3);
    expect(reads).toBe(3);
  });

  it('past the deadline throws, naming what it waited for and the last value read', async () => {
    await expect(pollUntil('the impossible', () => ({ state: 'open' }), () => false, { timeoutMs: 20, intervalMs: 5 })).rejects.toThrow(
      'the impossible: not reached within 0.02 s (last: {"state":"open"})',
    );
  });

  it('throws what `fail` makes, so a caller keeps its own error type', async () => {
    class StepFailure extends Error {}
    const failing = pollUntil('never', () => 0, () => false, { timeoutMs: 0, intervalMs: 1, fail: (message) => new StepFailure(message) });
    await expect(failing).rejects.toBeInstanceOf(StepFailure);
  });

  it("waits a value's retryAfterMs instead of the interval", async () => {
    // The interval alone (60 s) would outlast the test's own timeout; the value asks for 1 ms.
    let reads = 0;
    const started = Date.now();
    await pollUntil('the second read', () => ({ read: ++reads, retryAfterMs: 1 }), (v) => v.read === 2, { timeoutMs: 60_000, intervalMs: 60_000 });
    expect(reads).toBe(2);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
