export interface EventTopology {
  topics: Record<string, string[]>;
  queues: Record<string, { parallelism: number }>;
  consumers: Record<string, string>;
}
export interface QStashSetupSummary {
  topics: Record<string, { added: string[]; removed: string[] }>;
  queues: Record<string, 'created' | 'updated' | 'unchanged'>;
}
export const TOPOLOGY_PATH: string;
export function readTopology(path?: string): EventTopology;
export function desiredEndpoints(topology: EventTopology, hooksBaseUrl: string): Record<string, { name: string; url: string }[]>;
export function setupQStash(options: {
  url: string;
  token: string;
  hooksBaseUrl: string;
  topology?: EventTopology;
  log?: (line: string) => void;
}): Promise<QStashSetupSummary>;
