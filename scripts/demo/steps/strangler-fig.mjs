// [9] The strangler fig: the legacy monolith answers / and the paths it still owns through the
// gateway; /api/users/* was carved out of it and the users worker answers there.
import { expectThat } from '../http-client.mjs';

export const stranglerFig = {
  title: 'The legacy monolith behind the gateway, /api/users carved out of it',
  pattern: 'strangler fig: a pool of HTTP origins takes whatever no route claims; one route per path moved to a worker',
  async run({ call, show, state }) {
    const origins = await call('GET', '/_ops/origins', { admin: true });
    expectThat(origins.status === 200, `GET /_ops/origins answered ${origins.status}, not 200`);
    const monoliths = origins.body?.legacy?.origins ?? [];
    // A deployment without a monolith (no ORIGIN_POOLS) has nothing to strangle: said, not failed.
    if (monoliths.length === 0) return 'no legacy monolith here (ORIGIN_POOLS names none for the legacy route): / answers 404';

    const home = await call('GET', '/');
    show('GET', '/', home, ['x-served-by'], { app: home.body?.app, version: home.body?.version });
    expectThat(home.status === 200 && home.headers.get('x-served-by') === 'legacy', `GET / answered ${home.status} from ${home.headers.get('x-served-by')}, not 200 from legacy`);
    const stores = await call('GET', '/api/stores');
    show('GET', '/api/stores', stores, ['x-served-by']);
    expectThat(stores.status === 200 && stores.headers.get('x-served-by') === 'legacy', `GET /api/stores answered ${stores.status} from ${stores.headers.get('x-served-by')}, not 200 from legacy`);
    const me = await call('GET', '/api/users/me', { token: state.token });
    show('GET', '/api/users/me', me, ['x-served-by'], { email: me.body?.email });
    expectThat(me.status === 200 && me.headers.get('x-served-by') === 'users', `GET /api/users/me answered ${me.status} from ${me.headers.get('x-served-by')}, not 200 from users`);

    const after = await call('GET', '/_ops/origins', { admin: true });
    const [monolith] = after.body?.legacy?.origins ?? [];
    show('GET', '/_ops/origins', after, [], { legacy: { balancer: after.body?.legacy?.balancer, origins: [{ name: monolith?.name, healthy: monolith?.healthy, requests: monolith?.requests, share: monolith?.share }] } });
    expectThat(monolith?.healthy === true && monolith.requests >= 2, `the monolith is not shown healthy with the requests just sent: ${JSON.stringify(monolith)}`);
    return `/ and /api/stores from the monolith (x-served-by: legacy), /api/users/me from the users worker (x-served-by: users); ${monolith.name} healthy with ${monolith.requests} requests`;
  },
};
