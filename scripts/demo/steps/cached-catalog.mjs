// [2] The catalog read twice: the first answer comes from the service (MISS), the second from the
// gateway's cache (HIT). An admin's change first purges the product, so the run starts cold.
import { expectThat } from '../http-client.mjs';

const PRODUCT = '/api/catalog/products/prod_03';

/** The fields of a product worth a line. */
const product = ({ body }) => (body && typeof body === 'object' ? { id: body.id, name: body.name, priceCents: body.priceCents, stock: body.stock } : body);

export const cachedCatalog = {
  title: 'Read a product twice: cached at the edge',
  pattern: 'cache-aside at the gateway, with tag-based invalidation',
  async run({ call, show, state }) {
    const current = await call('GET', PRODUCT, { token: state.token });
    expectThat(current.status === 200, `GET ${PRODUCT} answered ${current.status}, not 200 (is the catalog seeded?)`);
    // Writing the product's own name back changes nothing, but purges its cached answers: the
    // reads below start from a MISS however recently this demo ran.
    const purge = await call('PUT', PRODUCT, { token: state.token, body: { name: current.body.name } });
    show('PUT', `${PRODUCT}  {"name":"${current.body.name}"}  (as admin: purges the cached copy)`, purge, [], product(purge));
    expectThat(purge.status === 200, `the admin's PUT answered ${purge.status}, not 200`);
    const first = await call('GET', PRODUCT);
    show('GET', PRODUCT, first, ['x-cache', 'age'], product(first));
    const second = await call('GET', PRODUCT);
    show('GET', PRODUCT, second, ['x-cache', 'age'], product(second));
    expectThat(first.status === 200 && first.headers.get('x-cache') === 'MISS', `the first read answered ${first.status} with x-cache ${first.headers.get('x-cache')}, not 200 MISS`);
    expectThat(second.status === 200 && second.headers.get('x-cache') === 'HIT', `the second read answered ${second.status} with x-cache ${second.headers.get('x-cache')}, not 200 HIT`);
    return `MISS (${first.ms} ms, from the catalog) then HIT (${second.ms} ms, the catalog not called); fresh for 30 s, a change purges it at once`;
  },
};
