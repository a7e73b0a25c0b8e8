export interface Cron {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  anyDay: boolean;
  anyWeekday: boolean;
}
export function parseCron(expression: string): Cron;
export function nextCronTime(cron: Cron, afterMs: number): number | undefined;
