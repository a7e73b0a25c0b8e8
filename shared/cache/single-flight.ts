/**
 * Request coalescing ("single flight"): of the calls for one key that overlap in one isolate,
 * the first (the leader) does the work and the others (followers) wait for its result instead of
 * doing it again, so a burst of identical cache misses costs the upstream one call.
 *
 * Written for workerd, where every request has its own I/O context and nothing may cross from one
 * request to another but plain data:
 * - a request must not use an I/O object another request created (a fetch, a stream, a Response
 *   body): "Cannot perform I/O on behalf of a different request";
 * - nor be woken by another request: resolving, from the leader's request, a promise a follower
 *   made and awaits fails the same way (workerd reports the I/O type `RefcountedFulfiller`), and
 *   the follower's continuation is cancelled ("Promise will never complete"): the follower hangs.
 *   test/e2e/cache.e2e.test.ts shows both with 20 real concurrent requests.
 * So the leader only WRITES PLAIN DATA into the flight (its result: bytes in an ArrayBuffer,
 * never a stream, a Response or a promise), and each follower, on its own timer in its own
 * context, LOOKS at the flight until the result is there (1 ms, then 2, 4, 8, ... at most
 * `maxPollMs` apart: a follower answers at most that much later than its leader), then builds
 * its own Response from a copy of the bytes. Nothing is awaited across requests, so nothing can
 * hang when the leader's request ends, fails or is cancelled:
 * - a follower waits at most `maxWaitMs`, then gives up and does the work itself (a leader whose
 *   client went away mid-flight never settles);
 * - a flight older than `maxWaitMs` is taken to be dead: the next call leads a new one.
 *
 * The leader settles with null when it has nothing the followers may share (an error, an answer
 * for one caller only): each follower then does the work itself.
 */
export type FlightRole<T> =
  | { leader: true; settle(value: T | null): void }
  | { leader: false; wait(): Promise<T | null> };

interface Flight<T> {
  startedAt: number;
  settled: boolean;
  value: T | null;
}

export interface SingleFlightOptions {
  /** The longest a follower waits for its leader, and the age after which a flight is abandoned. */
  maxWaitMs: number;
  /** The longest pause between two looks at the flight. Default 20 ms. */
  maxPollMs?: number;
  now?: () => number;
  /** A pause on this caller's own timer. */
  sleep?: (ms: number) => Promise<void>;
}

export class SingleFlight<T> {
  private readonly flights = new Map<string, Flight<T>>();
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: SingleFlightOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Flights under way. */
  get size(): number {
    return this.flights.size;
  }

  /**
   * Leads the flight for `key` or, when one is under way, follows it. Synchronous: between the
   * look at the flights and the joining nothing else runs, so each key has one leader at a time.
   */
  join(key: string): FlightRole<T> {
    const now = this.now();
    const current = this.flights.get(key);
    if (current && now - current.startedAt < this.options.maxWaitMs) return { leader: false, wait: () => this.follow(current, now) };
    const flight: Flight<T> = { startedAt: now, settled: false, value: null };
    this.flights.set(key, flight);
    return {
      leader: true,
      settle: (value) => {
        flight.value = value;
        flight.settled = true;
        if (this.flights.get(key) === flight) this.flights.delete(key);
      },
    };
  }

  private async follow(flight: Flight<T>, joinedAt: number): Promise<T | null> {
    const maxPollMs = this.options.maxPollMs ?? 20;
    // Counted from the pauses as well as the clock: workerd's clock stands still between I/O.
    let waited = joinedAt - flight.startedAt;
    let pause = 1;
    while (!flight.settled) {
      if (waited >= this.options.maxWaitMs || this.now() - flight.startedAt >= this.options.maxWaitMs) return null;
      await this.sleep(pause);
      waited += pause;
      pause = Math.min(pause * 2, maxPollMs);
    }
    return flight.value;
  }
}
