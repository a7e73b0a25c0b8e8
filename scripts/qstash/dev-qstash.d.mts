export function ensureQStashDevVars(options?: { log?: (line: string) => void; dirs?: string[] }): void;
export function startDevQStash(options?: { log?: (line: string) => void }): Promise<{ url: string; close(): Promise<void> }>;
