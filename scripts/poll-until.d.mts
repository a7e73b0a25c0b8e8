/** Calls `read` until `done(value)`, with a deadline (see the .mjs). */
export function pollUntil<T>(
  what: string,
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  options: { timeoutMs: number; intervalMs?: number; fail?: (message: string) => Error },
): Promise<T>;
