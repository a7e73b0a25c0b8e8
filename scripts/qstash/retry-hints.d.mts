export const MAX_RETRY_HINT_MS: number;
export function isNonRetryable(outcome: { status?: number; headers?: [string, string][] }): boolean;
export function retryHintMs(headers: [string, string][] | undefined, now?: number): number | undefined;
