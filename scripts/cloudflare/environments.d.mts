export const ENVIRONMENTS: string[];
export function isPlaceholderDatabaseId(id: unknown): boolean;
export function environmentFrom(argv: string[], fallback?: string | null): string | undefined;
export function flagValue(argv: string[], name: string): string | undefined;
export interface EnvWorker {
  name: string;
  configPath: string;
  worker: string;
  bindsTo: string[];
  vars: Record<string, string>;
  d1: { binding: string; database_name: string; database_id: string; migrations_dir?: string }[];
}
export function environmentWorkers(env: string): EnvWorker[];
