export interface CronSchedule {
  service: string;
  cron: string;
}
export function cronSchedules(workers?: { name: string; crons: string[] }[]): CronSchedule[];
export function nextFire(cron: string, after: Date): Date;
export function devAdminToken(): string;
export function startDevCrons(options: {
  baseUrl: string;
  adminToken: string;
  schedules?: CronSchedule[];
  log?: (line: string) => void;
  now?: () => Date;
}): { stop(): void; runs: { service: string; cron: string; status: number | string; at: string }[] };
