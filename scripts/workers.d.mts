export const ROOT: string;
export const PERSIST_DIR: string;
export interface ServiceWorker {
  name: string;
  dir: string;
  configPath: string;
  d1: { binding: string; database_name: string; database_id?: string; migrations_dir?: string }[];
  /** Its `[triggers] crons` (empty without a cron trigger). */
  crons: string[];
}
export function serviceWorkers(): ServiceWorker[];
export function gatewayConfigPath(): string;
