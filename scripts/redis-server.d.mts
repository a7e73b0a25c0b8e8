export interface RedisServer {
  /** redis://127.0.0.1:<port> */
  url: string;
  port: number;
  pid: number;
  close(): Promise<void>;
}
export function findRedisServer(): string | null;
export function hasRedisServer(): boolean;
export function startRedisServer(options?: { readyTimeoutMs?: number }): Promise<RedisServer>;
