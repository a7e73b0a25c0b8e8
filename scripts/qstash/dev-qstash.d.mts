export function ensureQStashDevVars(options?: { log?: (line: string) => void }): void;
export function startDevQStash(options?: { log?: (line: string) => void }): Promise<{ url: string; close(): Promise<void> }>;
