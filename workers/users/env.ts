import type { ServiceMetricsBindings } from '../../shared/adapters/cloudflare/service-metrics';
import type { ChaosBindings } from '../../shared/adapters/cloudflare/chaos-store';
import type { TelemetryBindings } from '../../shared/observability/telemetry';

/** The users worker's bindings (workers/users/wrangler.toml; the keys are secrets, `.dev.vars` locally). */
export interface UsersBindings extends ServiceMetricsBindings, ChaosBindings, TelemetryBindings {
  DB: D1Database;
  LOG_LEVEL?: string;
  BODY_LIMIT_BYTES?: string;
  /** The gateway's public service-token keys (a JSON JWK array): calls without a valid token are 401. */
  SERVICE_TOKEN_PUBLIC_JWKS?: string;
  /** Secret: the EC P-256 private JWK (a JSON string) that signs access tokens (ES256). */
  ACCESS_TOKEN_PRIVATE_JWK?: string;
  /** The `kid` of that key: in every token's header and in the JWKS. */
  ACCESS_TOKEN_KID?: string;
  /** Optional JSON array of earlier public JWKs (each with its `kid`), still published while their tokens live. */
  ACCESS_TOKEN_PREVIOUS_PUBLIC_JWKS?: string;
  /** `iss` of access tokens; default "stratus-users". */
  ACCESS_TOKEN_ISSUER?: string;
  /** `aud` of access tokens; default "stratus". */
  ACCESS_TOKEN_AUDIENCE?: string;
}
