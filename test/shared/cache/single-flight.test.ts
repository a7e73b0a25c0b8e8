import { describe, expect, it } from 'vitest';
import { SingleFlight } from '../../../shared/cache/single-flight';

describe('SingleFlight', () => {
  it('one leader per key; followers get what it settles with', async () => {
    const flights = new SingleFlight<string>({ maxWaitMs: 5_000 });
    const leader = flights.join('k');
    const followers = [flights.join('k'), flights.join('k')];
    expect(leader.leader).toBe(true);
    expect(followers.map((f) => f.leader)).toEqual([false, false]);
    // Another key has a leader of its own.
    expect(flights.join('other').leader).toBe(true);
    const waiting = followers.map((f) => (f.leader ? null : f.wait()));
    if (leader.leader) leader.settle('bytes');
    expect(await Promise.all(waiting)).toEqual(['bytes', 'bytes']);
    // Settled: the next call leads a new flight.
    expect(flights.join('k').leader).toBe(true);
  });

  it('followers get null when the leader has nothing to share', async () => {
    const flights = new SingleFlight<string>({ maxWaitMs: 5_000 });
    const leader = flights.join('k');
    const follower = flights.join('k');
    const waiting = follower.leader ? null : follower.wait();
    if (leader.leader) leader.settle(null);
    expect(await waiting).toBeNull();
  });

  it('a follower gives up after maxWaitMs, counted on its own timer, and a flight that old is taken over', async () => {
    let now = 0;
    const slept: number[] = [];
    const flights = new SingleFlight<string>({
      maxWaitMs: 100,
      maxPollMs: 20,
      now: () => now,
      // The clock stands still, as workerd's does between I/O: only the pauses count.
      sleep: async (ms) => void slept.push(ms),
    });
    const leader = flights.join('k');
    const follower = flights.join('k');
    expect(follower.leader).toBe(false);
    expect(await (follower.leader ? null : follower.wait())).toBeNull();
    expect(slept.slice(0, 6)).toEqual([1, 2, 4, 8, 16, 20]);
    expect(slept.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(100);
    expect(leader.leader).toBe(true);
    now = 100;
    expect(flights.join('k').leader).toBe(true);
  });

  it('a late settle by an abandoned leader does not end its successor’s flight', async () => {
    let now = 0;
    const flights = new SingleFlight<string>({ maxWaitMs: 100, now: () => now });
    const first = flights.join('k');
    now = 150;
    const second = flights.join('k');
    expect(second.leader).toBe(true);
    if (first.leader) first.settle('old');
    const follower = flights.join('k');
    expect(follower.leader).toBe(false);
    const waiting = follower.leader ? null : follower.wait();
    if (second.leader) second.settle('new');
    expect(await waiting).toBe('new');
  });
});
