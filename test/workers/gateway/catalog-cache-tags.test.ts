import { describe, expect, it } from 'vitest';
import { tagsFor } from '../../../workers/gateway/cache/cache-policy';
import { catalogCacheInvalidations, catalogCacheTags } from '../../../workers/gateway/cache/catalog-tags';
import { routes } from '../../../workers/gateway/routes';

const write = (method: string, upstreamPath: string, location?: string) => ({
  method,
  upstreamPath,
  response: new Response(null, { status: method === 'POST' ? 201 : 200, headers: location ? { location } : {} }),
});

describe('the catalog’s cache tags', () => {
  it('a product is product:<id>; every list (a page, a search, the most viewed) is products:list', () => {
    expect(catalogCacheTags('/products/prod_03')).toEqual(['product:prod_03']);
    expect(catalogCacheTags('/products/prod%2003/')).toEqual(['product:prod 03']);
    for (const path of ['/products', '/products/', '/products/popular']) expect(catalogCacheTags(path)).toEqual(['products:list']);
    expect(catalogCacheTags('/products/a/b')).toEqual([]);
    expect(catalogCacheTags('/products/%E0%A4%A')).toEqual([]);
  });

  it('a PUT purges its product and the lists; a POST the product its Location names and the lists', () => {
    expect(catalogCacheInvalidations(write('PUT', '/products/prod_03'))).toEqual(['products:list', 'product:prod_03']);
    expect(catalogCacheInvalidations(write('POST', '/products', '/api/catalog/products/prod_new'))).toEqual(['products:list', 'product:prod_new']);
    expect(catalogCacheInvalidations(write('POST', '/products'))).toEqual(['products:list']);
    expect(catalogCacheInvalidations(write('POST', '/elsewhere'))).toEqual([]);
  });

  it('the catalog route caches 30 s fresh and 60 s stale, under these tags', () => {
    const policy = routes.find((route) => route.name === 'catalog')?.policy.cache;
    expect(policy).toMatchObject({ ttlSeconds: 30, staleWhileRevalidateSeconds: 60 });
    expect(tagsFor(policy!, '/products/popular', '?limit=20')).toEqual(['products:list']);
    expect(tagsFor(policy!, '/products/prod_01', '')).toEqual(['product:prod_01']);
  });
});
