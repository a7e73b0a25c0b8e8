import { memoryEventStore, type MemoryStatement } from '../../../shared/adapters/memory/memory-event-store';
import { eventStoreContract } from './event-store-contract';

const committed = new Set<string>();

eventStoreContract<MemoryStatement>('memory', {
  async open(now) {
    committed.clear();
    return memoryEventStore({ now });
  },
  committing: (tag) => () => () => void committed.add(tag),
  committed: async (tag) => committed.has(tag),
  failing: () => () => {
    throw new Error('refused by a statement of the append');
  },
});
