/** A WebSocket a test watches: every message it got, and how it closed (with a deadline). */
export interface WatchedSocket {
  socket: WebSocket;
  messages: Record<string, unknown>[];
  closed: (deadlineMs?: number) => Promise<{ code: number; reason: string }>;
  /** Resolves once `count` messages have arrived (with a deadline). */
  received: (count: number, deadlineMs?: number) => Promise<Record<string, unknown>[]>;
}

/**
 * Accepts the client end of an upgrade answer and records what arrives. Listeners go on before
 * `accept()`, so messages the server sent before the test looked are not missed.
 */
export function watchSocket(response: Response): WatchedSocket {
  const socket = response.webSocket;
  if (response.status !== 101 || !socket) throw new Error(`expected 101 with a WebSocket, got ${response.status}`);
  const messages: Record<string, unknown>[] = [];
  const waiting = new Set<() => void>();
  let closedWith: { code: number; reason: string } | null = null;
  socket.addEventListener('message', (event) => {
    messages.push(JSON.parse(String(event.data)) as Record<string, unknown>);
    for (const wake of waiting) wake();
  });
  socket.addEventListener('close', (event) => {
    closedWith = { code: event.code, reason: event.reason };
    for (const wake of waiting) wake();
  });
  socket.accept();
  const until = <T>(ready: () => T | null, deadlineMs: number, what: string) =>
    new Promise<T>((resolve, reject) => {
      const check = () => {
        const value = ready();
        if (value === null) return false;
        waiting.delete(check);
        clearTimeout(timer);
        resolve(value);
        return true;
      };
      const timer = setTimeout(() => {
        waiting.delete(check);
        reject(new Error(`${what} within ${deadlineMs} ms; got ${JSON.stringify(messages)}`));
      }, deadlineMs);
      if (!check()) waiting.add(check);
    });
  return {
    socket,
    messages,
    closed: (deadlineMs = 10_000) => until(() => closedWith, deadlineMs, 'no close'),
    received: (count, deadlineMs = 10_000) => until(() => (messages.length >= count ? messages.slice(0, count) : null), deadlineMs, `fewer than ${count} messages`),
  };
}
