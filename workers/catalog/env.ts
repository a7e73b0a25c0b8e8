/** The catalog worker's bindings (workers/catalog/wrangler.toml). */
export interface CatalogBindings {
  DB: D1Database;
  LOG_LEVEL?: string;
  BODY_LIMIT_BYTES?: string;
}
