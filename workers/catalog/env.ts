import type { ChaosBindings } from '../../shared/adapters/cloudflare/chaos-store';

/** The catalog worker's bindings (workers/catalog/wrangler.toml). */
export interface CatalogBindings extends ChaosBindings {
  DB: D1Database;
  LOG_LEVEL?: string;
  BODY_LIMIT_BYTES?: string;
}
