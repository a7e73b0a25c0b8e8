import {
  checkAppend,
  checkReadAll,
  concurrencyError,
  expectedStreamVersion,
  type EventInput,
  type EventStore,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
} from '../../event-store/event-store';

/**
 * What `alsoCommit` takes in memory, in two steps as a transaction has them: the function runs
 * after the events are checked and gets them as they will be recorded. It may throw to refuse
 * the append, and then nothing is stored and the error reaches the caller, as a failed
 * statement undoes a D1 batch. What it returns (if anything) is its write, called only once
 * every statement has passed, just as the events are stored.
 */
export type MemoryStatement = (appended: readonly RecordedEvent[]) => void | (() => void);

export interface MemoryEventStoreOptions {
  /** Epoch ms for `recordedAt`; default Date.now. */
  now?: () => number;
}

/**
 * The event store in one isolate's memory, for tests and the pure core. An append checks and
 * commits with no `await` in between, so in one JavaScript thread it is as atomic as a D1 batch.
 * Events are cloned in and out (structuredClone), so callers cannot change what was stored.
 */
export function memoryEventStore(options: MemoryEventStoreOptions = {}): EventStore<MemoryStatement> {
  const now = options.now ?? Date.now;
  const all: RecordedEvent[] = [];
  const streams = new Map<string, RecordedEvent[]>();

  return {
    async appendToStream(streamId, events, { expectedVersion, alsoCommit = [] }) {
      checkAppend(streamId, events);
      const expected = expectedStreamVersion(expectedVersion);
      const stream = streams.get(streamId) ?? [];
      if (expected !== null && stream.length !== expected) throw concurrencyError(streamId, expectedVersion, stream.length);

      const recordedAt = now();
      const appended = events.map(
        (event, i): RecordedEvent => ({
          streamId,
          version: stream.length + i + 1,
          type: event.type,
          // As JSON stores it: an absent value is null.
          data: structuredClone(event.data ?? null),
          metadata: structuredClone(event.metadata ?? {}),
          globalPosition: all.length + i + 1,
          recordedAt,
        }),
      );
      const writes = alsoCommit.map((statement) => statement(appended.map((event) => structuredClone(event))));

      for (const write of writes) write?.();
      all.push(...appended);
      streams.set(streamId, [...stream, ...appended]);
      const last = appended[appended.length - 1]!;
      return { nextVersion: last.version, globalPosition: last.globalPosition };
    },

    async readStream<E extends EventInput>(streamId: string, { fromVersion = 1, toVersion = Number.MAX_SAFE_INTEGER }: ReadStreamOptions = {}) {
      const stream = streams.get(streamId) ?? [];
      return structuredClone(stream.filter((event) => event.version >= fromVersion && event.version <= toVersion)) as RecordedEvent<E>[];
    },

    async readAll<E extends EventInput>(readOptions: ReadAllOptions) {
      const { after, limit } = checkReadAll(readOptions);
      // Positions are 1..n with no gaps, so position p sits at index p - 1.
      return structuredClone(all.slice(after, after + limit)) as RecordedEvent<E>[];
    },
  };
}
