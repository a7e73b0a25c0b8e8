import type { WorkerOptions } from 'miniflare';

export function bundleWorker(configPath: string, name: string): string;
export function bundledWorkerOptions(configPath: string, name: string, overrides?: Partial<WorkerOptions>): WorkerOptions;
