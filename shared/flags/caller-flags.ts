import type { Context } from 'hono';
import type { AppEnv } from '../middleware/app-env';

/**
 * Whether a feature flag is on for this call, as the gateway evaluated it for the caller and
 * signed it into the service token (`flags` claim, shared/security/service-token.ts). Read from
 * the verified token only: a client cannot switch a flag on with a header, and a call without a
 * token from the gateway (the orders saga's own calls) has every flag off.
 */
export function flagOn<Bindings extends object>(c: Context<AppEnv<Bindings>>, key: string): boolean {
  return c.get('caller')?.flags?.includes(key) ?? false;
}
