import { Hono, type Context } from 'hono';
import type { AppEnv } from '../../../shared/middleware/app-env';
// The services' answer shapes, as they declare them (types only: nothing of theirs runs here).
import type { Product } from '../../catalog/product-schemas';
import type { Profile } from '../../users/user-schemas';
import type { toSummary } from '../../orders/order-schemas';
import type { GatewayBindings } from '../env';
import { fetchPart, type Part } from './part';
import { homeScreenCost, screenCaller } from './screen-limit';

/**
 * Backends for frontends: one call per screen, composed at the edge from several services in
 * parallel, each with its own deadline, each allowed to fail alone. The web and mobile answers
 * come from the same parts; mobile gets a smaller shape and tighter deadlines (a phone on a slow
 * network should not wait for what it will not show).
 */

type Ctx = Context<AppEnv<GatewayBindings>>;

type OrderSummary = ReturnType<typeof toSummary>;

/** The parts a home screen is made of; `profile` and `orders` only for a signed-in caller. */
async function homeParts(c: Ctx, deadlines: { featured: number; profile: number; orders: number }) {
  const identity = await screenCaller(c, homeScreenCost);
  const [featured, profile, orders] = await Promise.all([
    fetchPart<{ items: Product[] }>(c, { route: 'catalog', path: '/products/popular?limit=8', identity: null, timeoutMs: deadlines.featured }),
    identity ? fetchPart<Profile>(c, { route: 'users', path: '/me', identity, timeoutMs: deadlines.profile }) : Promise.resolve(null),
    identity ? fetchPart<{ items: OrderSummary[] }>(c, { route: 'orders', path: '/orders?limit=3', identity, timeoutMs: deadlines.orders }) : Promise.resolve(null),
  ]);
  return { featured, profile, orders };
}

const map = <T, U>(part: Part<T>, f: (data: T) => U): Part<U> => (part.status === 'ok' ? { ...part, data: f(part.data) } : part);

/** 200 while anything could be shown; 502 only when every part failed. */
function answer(c: Ctx, body: Record<string, Part<unknown> | null>) {
  const parts = Object.values(body).filter((p): p is Part<unknown> => p !== null);
  const status = parts.length > 0 && parts.every((p) => p.status === 'unavailable') ? 502 : 200;
  // Composed per caller: never cached by anyone downstream.
  return c.json(body, status, { 'cache-control': 'private, no-store' });
}

export const bffRoutes = new Hono<AppEnv<GatewayBindings>>();

bffRoutes.get('/web/home', async (c) => {
  c.set('routeLabel', '/bff/web/home');
  const { featured, profile, orders } = await homeParts(c, { featured: 1_500, profile: 1_000, orders: 1_000 });
  return answer(c, { featured: map(featured, (d) => d.items), profile, recentOrders: orders && map(orders, (d) => d.items) });
});

bffRoutes.get('/mobile/home', async (c) => {
  c.set('routeLabel', '/bff/mobile/home');
  const { featured, profile, orders } = await homeParts(c, { featured: 800, profile: 500, orders: 500 });
  return answer(c, {
    featured: map(featured, (d) => d.items.slice(0, 4).map(({ id, name, priceCents, currency }) => ({ id, name, priceCents, currency }))),
    profile: profile && map(profile, (p) => ({ name: p.name ?? p.email })),
    recentOrders: orders && map(orders, (d) => d.items.slice(0, 1).map(({ orderId, status, totalCents, currency }) => ({ orderId, status, totalCents, currency }))),
  });
});
