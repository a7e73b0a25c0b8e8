export interface ScheduleRecord {
  scheduleId: string;
  cron: string;
  destination: string;
  queueName?: string;
  headers: [string, string][];
  body: string;
  callerIp?: string;
  createdAt: number;
  isPaused: boolean;
  lastScheduleTime?: number;
}
export class Schedules {
  constructor(options: {
    store?: { put(kind: string, id: string, record: unknown): void; delete(kind: string, id: string): void };
    fire: (schedule: ScheduleRecord) => void;
    defaults: { maxRetries: number; retryDelayScale: number; delayScale: number; deliveryTimeoutMs: number };
    log?: (line: string) => void;
  });
  restore(records: Iterable<ScheduleRecord>): void;
  create(request: { destination: string; headers: Headers; body: Buffer; callerIp?: string }): { scheduleId: string };
  get(scheduleId: string): Record<string, unknown>;
  list(): Record<string, unknown>[];
  delete(scheduleId: string): void;
  setPaused(scheduleId: string, isPaused: boolean): void;
  close(): void;
}
