import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchingRecorder } from '../../../shared/metrics/batching-recorder';
import { addCounter, emptyBatch, mergeBatch, type MetricBatch } from '../../../shared/metrics/metric-batch';

interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Lets every already-queued promise callback run, so a send the recorder is about to make has
 * been made. Only microtasks: no timers, no real time passes.
 */
const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

interface SentBatch {
  source: string;
  seq: number;
  batch: MetricBatch;
  reply: Deferred;
}

/** A sink whose every call waits until the test answers it, recording in-flight overlap. */
function controllableSink() {
  const calls: SentBatch[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const send = (source: string, seq: number, batch: MetricBatch) => {
    const reply = deferred();
    calls.push({ source, seq, batch: structuredClone(batch), reply });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return reply.promise.finally(() => inFlight--);
  };
  return { send, calls, maxInFlight: () => maxInFlight };
}

/** A fake `sleep`: records the requested delay and resolves only when the test says so. */
function controllableSleep() {
  const waits: { ms: number; wake: () => void }[] = [];
  const sleep = (ms: number) => {
    const d = deferred();
    waits.push({ ms, wake: () => d.resolve() });
    return d.promise;
  };
  return { sleep, waits };
}

/** For recorders that must never wait: any call to `sleep` fails the test. */
const noSleep = (ms: number): Promise<void> => {
  throw new Error(`unexpected sleep(${ms})`);
};

/** A recorder that flushes without waiting, in front of a sink the test answers by hand. */
function immediateRecorder() {
  const sink = controllableSink();
  const recorder = new BatchingRecorder({ source: 's', send: sink.send, flushIntervalMs: 0, sleep: noSleep });
  return { sink, recorder };
}

/** What reached the sink, as `[seq, counters]` per send. */
const sent = (sink: ReturnType<typeof controllableSink>) => sink.calls.map((c) => [c.seq, c.batch.counters]);

const counterBatch = (counters: Record<string, number>): MetricBatch => ({ ...emptyBatch(), counters });

describe('BatchingRecorder.scheduleFlush', () => {
  it('returns a promise only once until that flush has run, then again', async () => {
    const sink = controllableSink();
    const clock = controllableSleep();
    const recorder = new BatchingRecorder({ source: 'iso', send: sink.send, flushIntervalMs: 5_000, sleep: clock.sleep });
    recorder.counter('c', {});

    const first = recorder.scheduleFlush();
    expect(first).toBeInstanceOf(Promise);
    expect(recorder.scheduleFlush()).toBeUndefined();
    expect(recorder.scheduleFlush()).toBeUndefined();
    expect(clock.waits.map((w) => w.ms)).toEqual([5_000]);
    expect(sink.calls).toHaveLength(0);

    clock.waits[0]?.wake();
    await settle();
    expect(sink.calls).toHaveLength(1);
    sink.calls[0]?.reply.resolve();
    await first;

    expect(recorder.scheduleFlush()).toBeInstanceOf(Promise);
    expect(clock.waits).toHaveLength(2);
  });

  it('includes in the scheduled flush what was recorded after scheduling', async () => {
    const sink = controllableSink();
    const clock = controllableSleep();
    const recorder = new BatchingRecorder({ source: 'iso', send: sink.send, flushIntervalMs: 1_000, sleep: clock.sleep });
    recorder.counter('c', {});
    const flushed = recorder.scheduleFlush();
    recorder.counter('c', {}, 2);
    expect(recorder.scheduleFlush()).toBeUndefined();
    clock.waits[0]?.wake();
    await settle();
    sink.calls[0]?.reply.resolve();
    await flushed;
    expect(sink.calls.map((c) => c.batch.counters)).toEqual([{ c: 3 }]);
  });

  it('flushes without sleeping when the interval is 0', async () => {
    const sink = controllableSink();
    const clock = controllableSleep();
    const recorder = new BatchingRecorder({ source: 'iso', send: sink.send, flushIntervalMs: 0, sleep: clock.sleep });
    recorder.counter('c', {});
    const flushed = recorder.scheduleFlush();
    await settle();
    expect(clock.waits).toHaveLength(0);
    expect(sink.calls).toHaveLength(1);
    sink.calls[0]?.reply.resolve();
    await flushed;
  });

  it('can be scheduled again after a flush that failed', async () => {
    const sink = controllableSink();
    const recorder = new BatchingRecorder({ source: 'iso', send: sink.send, flushIntervalMs: 0, sleep: noSleep });
    recorder.counter('c', {});
    const failed = recorder.scheduleFlush();
    await settle();
    sink.calls[0]?.reply.reject(new Error('aggregator down'));
    await expect(failed).rejects.toThrow('aggregator down');
    expect(recorder.scheduleFlush()).toBeInstanceOf(Promise);
  });
});

describe('BatchingRecorder.flush', () => {
  it('sends everything pending as one batch, with its source and increasing seq', async () => {
    const sent: { source: string; seq: number; batch: MetricBatch }[] = [];
    const recorder = new BatchingRecorder({
      source: 'isolate-1',
      send: async (source, seq, batch) => void sent.push({ source, seq, batch }),
      flushIntervalMs: 0,
      sleep: noSleep,
    });
    recorder.counter('requests', { route: '/a' });
    recorder.counter('requests', { route: '/a' }, 2);
    recorder.gauge('isolates', {}, 3);
    recorder.observe('latency', {}, 0.3, [0.1, 1]);
    await recorder.flush();
    recorder.counter('requests', { route: '/b' });
    await recorder.flush();

    expect(sent).toEqual([
      {
        source: 'isolate-1',
        seq: 1,
        batch: {
          counters: { 'requests{route="/a"}': 3 },
          gauges: { isolates: 3 },
          histograms: { latency: { bounds: [0.1, 1], counts: [0, 1, 0], sum: 0.3, count: 1 } },
        },
      },
      { source: 'isolate-1', seq: 2, batch: counterBatch({ 'requests{route="/b"}': 1 }) },
    ]);
  });

  it('sends nothing and uses no seq when nothing was recorded', async () => {
    const seqs: number[] = [];
    const recorder = new BatchingRecorder({ source: 's', send: async (_, seq) => void seqs.push(seq), flushIntervalMs: 0, sleep: noSleep });
    await recorder.flush();
    await recorder.flush();
    recorder.counter('c', {});
    await recorder.flush();
    expect(seqs).toEqual([1]);
  });

  it('re-sends a failed batch with the SAME seq before newer data, which goes in a later seq', async () => {
    const { sink, recorder } = immediateRecorder();

    recorder.counter('c', {}, 1);
    const first = recorder.flush();
    await settle();
    sink.calls[0]?.reply.reject(new Error('network'));
    await expect(first).rejects.toThrow('network');

    recorder.counter('c', {}, 10);
    const second = recorder.flush();
    await settle();
    expect(sent(sink)).toEqual([
      [1, { c: 1 }],
      [1, { c: 1 }],
    ]);
    sink.calls[1]?.reply.resolve();
    await settle();
    expect(sent(sink)).toEqual([
      [1, { c: 1 }],
      [1, { c: 1 }],
      [2, { c: 10 }],
    ]);
    sink.calls[2]?.reply.resolve();
    await second;
  });

  it('keeps the failed batch and the newer data apart when the re-send fails too', async () => {
    const { sink, recorder } = immediateRecorder();

    recorder.counter('c', {}, 1);
    const first = recorder.flush();
    await settle();
    sink.calls[0]?.reply.reject(new Error('down'));
    await expect(first).rejects.toThrow();

    recorder.counter('c', {}, 10);
    const second = recorder.flush();
    await settle();
    sink.calls[1]?.reply.reject(new Error('still down'));
    await expect(second).rejects.toThrow('still down');
    // The newer data was never sent: the failed re-send stopped the flush before it.
    expect(sink.calls.map((c) => c.seq)).toEqual([1, 1]);

    recorder.counter('c', {}, 100);
    const third = recorder.flush();
    await settle();
    sink.calls[2]?.reply.resolve();
    await settle();
    sink.calls[3]?.reply.resolve();
    await third;
    expect(sent(sink)).toEqual([
      [1, { c: 1 }],
      [1, { c: 1 }],
      [1, { c: 1 }],
      [2, { c: 110 }],
    ]);
  });

  it('puts data recorded while a send is on its way into the next seq', async () => {
    const { sink, recorder } = immediateRecorder();
    recorder.counter('c', {}, 1);
    const first = recorder.flush();
    await settle();
    recorder.counter('c', {}, 2);
    sink.calls[0]?.reply.resolve();
    await first;
    const second = recorder.flush();
    await settle();
    sink.calls[1]?.reply.resolve();
    await second;
    expect(sent(sink)).toEqual([
      [1, { c: 1 }],
      [2, { c: 2 }],
    ]);
  });

  it('never runs two sends at once, and a flush never waits on another: it returns, and the data goes next time', async () => {
    const { sink, recorder } = immediateRecorder();
    recorder.counter('c', {}, 1);
    const first = recorder.flush();
    await settle();
    recorder.counter('c', {}, 2);
    await recorder.flush(); // resolves at once: the first send is still on its way
    expect(sink.calls).toHaveLength(1);

    sink.calls[0]?.reply.reject(new Error('lost'));
    await expect(first).rejects.toThrow('lost');
    // The next flush re-sends seq 1 first, then what came after as seq 2.
    const next = recorder.flush();
    await settle();
    sink.calls[1]?.reply.resolve();
    await settle();
    sink.calls[2]?.reply.resolve();
    await next;
    expect(sink.maxInFlight()).toBe(1);
    expect(sent(sink)).toEqual([
      [1, { c: 1 }],
      [1, { c: 1 }],
      [2, { c: 2 }],
    ]);
  });

  it('gives up on a send never answered after sendTimeoutMs: the next flush re-sends it, and the abandoned one changes nothing', async () => {
    const sink = controllableSink();
    let now = 0;
    const recorder = new BatchingRecorder({ source: 's', send: sink.send, flushIntervalMs: 0, sleep: noSleep, sendTimeoutMs: 5_000, now: () => now });
    recorder.counter('c', {}, 1);
    const abandoned = recorder.flush();
    await settle();
    recorder.counter('c', {}, 2);
    now += 4_999;
    await recorder.flush();
    expect(sink.calls).toHaveLength(1);
    now += 1;
    const takeover = recorder.flush();
    await settle();
    sink.calls[1]?.reply.resolve();
    await settle();
    sink.calls[2]?.reply.resolve();
    await takeover;
    // The abandoned send finally answers: nothing more is sent on its behalf.
    sink.calls[0]?.reply.resolve();
    await abandoned;
    await settle();
    expect(sent(sink)).toEqual([
      [1, { c: 1 }],
      [1, { c: 1 }],
      [2, { c: 2 }],
    ]);
  });

  it('loses nothing and counts nothing twice across failures, with a receiver that drops re-sent seqs (property)', async () => {
    // Each step records some counts, then flushes; each send either succeeds, fails before
    // arriving, or arrives but its answer is lost (the receiver applied it, the sender saw an error).
    const outcome = fc.constantFrom('ok' as const, 'lost' as const, 'answer-lost' as const);
    const step = fc.record({ increments: fc.array(fc.record({ name: fc.constantFrom('a', 'b'), by: fc.integer({ min: 1, max: 9 }) }), { maxLength: 4 }), outcomes: fc.array(outcome, { maxLength: 3 }) });

    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 12 }), async (steps) => {
        const received = emptyBatch();
        let lastApplied = 0;
        const seqsSent: number[] = [];
        let script: ('ok' | 'lost' | 'answer-lost')[] = [];
        const recorder = new BatchingRecorder({
          source: 's',
          flushIntervalMs: 0,
          sleep: noSleep,
          send: async (_, seq, batch) => {
            seqsSent.push(seq);
            const result = script.shift() ?? 'ok';
            if (result === 'lost') throw new Error('lost');
            if (seq > lastApplied) {
              mergeBatch(received, structuredClone(batch));
              lastApplied = seq;
            }
            if (result === 'answer-lost') throw new Error('answer lost');
          },
        });

        const recorded = emptyBatch();
        for (const { increments, outcomes } of steps) {
          for (const { name, by } of increments) {
            recorder.counter(name, {}, by);
            addCounter(recorded, name, {}, by);
          }
          script = [...outcomes];
          await recorder.flush().catch(() => undefined);
        }
        script = [];
        await recorder.flush();

        expect(received).toEqual(recorded);
        // A seq is never sent before every lower one was acknowledged.
        for (let i = 1; i < seqsSent.length; i++) expect(seqsSent[i]).toBeGreaterThanOrEqual(seqsSent[i - 1] ?? 0);
      }),
    );
  });
});
