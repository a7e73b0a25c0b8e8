import type { Context } from 'hono';
import { HttpError } from '../../../shared/http/problem';
import type { AppEnv } from '../../../shared/middleware/app-env';
import type { RateLimitPolicy } from '../../../shared/ratelimit/policy';
import type { GatewayBindings } from '../env';
import { enforceLimit, rateLimitKey, type Limited } from '../traffic/rate-limit';

/**
 * Failed operator-token attempts (a token presented and wrong; none at all is no guess), limited
 * per address: 10 a minute. Only failures count, so the
 * dashboard's polling with the right token never meets the limit; but once an address is over
 * it, every request from it is refused (429) until the window frees up, the right token
 * included, or guessing would go on at full speed behind the 429s.
 *
 * Fail closed: when the limiter cannot answer, the endpoints answer 503 rather than take
 * unlimited guesses (an operator retries in a second; a guesser must not get a free window).
 */
export const OPERATOR_ATTEMPTS_LIMIT: RateLimitPolicy = { algorithm: 'sliding-window', limit: 10, windowMs: 60_000 };

type Ctx = Context<AppEnv<GatewayBindings>>;

const attempts = (c: Ctx, cost: number): Limited => ({
  name: 'ops-auth',
  label: '/_ops/*',
  what: '/_ops (failed operator tokens)',
  policy: OPERATOR_ATTEMPTS_LIMIT,
  key: rateLimitKey(c, null),
  cost,
  failure: 'closed',
});

/** Before the token is checked: 429 if this address is already over its failed attempts (counts nothing). */
export async function refuseLockedOut(c: Ctx): Promise<void> {
  await enforceLimit(c, attempts(c, 0));
}

/** After a wrong or missing token: counts the failure; 429 if it was one too many, else `refusal` (the 401). */
export async function countFailedAttempt(c: Ctx, refusal: HttpError): Promise<never> {
  await enforceLimit(c, attempts(c, 1));
  throw refusal;
}
