export interface UpstashBridge {
  /** Base URL for `new Redis({ url, token })`, e.g. http://127.0.0.1:8079 */
  url: string;
  token: string;
  close(): Promise<void>;
}
export function startBridge(options: { redisUrl: string; token: string; port?: number; host?: string }): Promise<UpstashBridge>;
