export const SERVED_BY: string;
export const LEGACY_ENDPOINTS: string[];

export interface LegacyMonolith {
  url: string;
  /** Makes every answer (its health check too) a 503, or back to normal. */
  setFailing(failing: boolean): void;
  /** Requests it has received. */
  requests(): number;
  close(): Promise<void>;
}

export function startLegacyMonolith(options?: { port?: number; host?: string }): Promise<LegacyMonolith>;

/** The gateway's ORIGIN_POOLS value that puts a monolith at `url` behind the `legacy` route. */
export function legacyOriginPools(url: string): string;
