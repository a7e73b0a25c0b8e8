import type { Context } from 'hono';
import { flagOn } from '../../shared/flags/caller-flags';
import { HttpError } from '../../shared/http/problem';
import type { AppEnv } from '../../shared/middleware/app-env';

/** The feature flag that turns the new checkout rules on, per caller (the gateway evaluates it). */
export const NEW_CHECKOUT_FLAG = 'new-checkout';

/**
 * The new checkout's limit on one order's total, in minor units of its currency (5,000.00): a
 * larger order is refused before any card is taken or stock reserved, so it can be placed as
 * several orders or arranged with the shop instead of failing half-way on a payment limit.
 */
export const NEW_CHECKOUT_MAX_TOTAL_CENTS = 500_000;

/**
 * The checkout rules behind the `new-checkout` flag, run on a priced order before anything is
 * taken from the caller: released to some callers first and withdrawn by turning the flag off,
 * no deploy either way (the flag comes in the verified service token: shared/flags/caller-flags.ts).
 * With the flag off, the checkout is as before.
 */
export function applyNewCheckoutRules<Bindings extends object>(c: Context<AppEnv<Bindings>>, order: { totalCents: number; currency: string }): void {
  if (!flagOn(c, NEW_CHECKOUT_FLAG)) return;
  if (order.totalCents > NEW_CHECKOUT_MAX_TOTAL_CENTS) {
    const limit = (NEW_CHECKOUT_MAX_TOTAL_CENTS / 100).toFixed(2);
    throw new HttpError(422, {
      type: 'order-over-limit',
      detail: `One order may total at most ${limit} ${order.currency}; this one totals ${(order.totalCents / 100).toFixed(2)} ${order.currency}. Split it into several orders.`,
    });
  }
}
