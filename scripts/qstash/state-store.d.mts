export class StateStore {
  constructor(dir: string);
  all(kind: string): Map<string, unknown>;
  put(kind: string, id: string, record: unknown): void;
  delete(kind: string, id: string): void;
  compact(): void;
  close(): void;
}
