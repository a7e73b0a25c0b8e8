export function parseDuration(text: string): number | undefined;
export function defaultBackoffMs(n: number): number;
export function compileRetryDelay(expression: string): (retried: number) => number;
