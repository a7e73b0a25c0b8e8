import { describe, expect, it } from 'vitest';
import catalogWorker from '../../../workers/catalog/index';
import { callWorker } from '../../support/call-worker';
import { viaGateway } from '../../support/service-token';

const catalog = viaGateway(catalogWorker, 'catalog');

describe('x-service-version', () => {
  it('says v1 on every answer of the catalog, errors included', async () => {
    expect((await callWorker(catalog, '/products?limit=1')).headers.get('x-service-version')).toBe('v1');
    expect((await callWorker(catalog, '/products/missing')).headers.get('x-service-version')).toBe('v1');
    // Refused before any route: no service token.
    const refused = await callWorker(catalogWorker, '/products');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-service-version')).toBe('v1');
  });

  it('says what SERVICE_VERSION says (the canary deploys the same code as v2), and v1 for a value unfit for a header', async () => {
    expect((await callWorker(catalog, '/products?limit=1', {}, { SERVICE_VERSION: 'v2' })).headers.get('x-service-version')).toBe('v2');
    expect((await callWorker(catalog, '/products?limit=1', {}, { SERVICE_VERSION: 'v2\r\nx: y' })).headers.get('x-service-version')).toBe('v1');
  });
});
