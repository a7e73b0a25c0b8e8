/**
 * The catalog's cache tags (routes.ts): one product is `product:<id>`; every list of products (a
 * page, a search, the most viewed) is `products:list`. A change to a product purges both: the
 * product itself and every list it may appear in.
 */

export const PRODUCTS_LIST_TAG = 'products:list';
export const productTag = (id: string) => `product:${id}`;

const PRODUCT_PATH = /^\/products\/([^/]+)\/?$/;

/** The product id in an upstream path (`/products/p1` → `p1`), percent-decoded; null when there is none. */
function productId(path: string): string | null {
  const match = PRODUCT_PATH.exec(path);
  if (!match?.[1]) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}

export function catalogCacheTags(upstreamPath: string): string[] {
  if (upstreamPath === '/products' || upstreamPath === '/products/' || upstreamPath === '/products/popular') return [PRODUCTS_LIST_TAG];
  const id = productId(upstreamPath);
  return id ? [productTag(id)] : [];
}

/**
 * What a successful write purges: the list, and the product it changed, named by the path (PUT
 * /products/:id) or, for a POST that created one, by the `Location` of its answer.
 */
export function catalogCacheInvalidations(write: { method: string; upstreamPath: string; response: Response }): string[] {
  if (!write.upstreamPath.startsWith('/products')) return [];
  const location = write.response.headers.get('location');
  const locationPath = location ? new URL(location, 'https://gateway.invalid').pathname : '';
  const id = productId(write.upstreamPath) ?? productId(locationPath.replace(/^.*(?=\/products\/)/, ''));
  return id ? [PRODUCTS_LIST_TAG, productTag(id)] : [PRODUCTS_LIST_TAG];
}

/** The header the catalog's event consumer answers with: the product tags whose stock an order changed. */
export const PURGE_TAGS_HEADER = 'x-cache-purge-tags';

/**
 * What a delivery to the catalog's consumer purges (POST /hooks/catalog answered 2xx): the
 * products it names, and the lists, since a list shows each product's stock too. Only
 * `product:<id>` tags are taken from the answer: the consumer cannot purge anything else.
 */
export function purgeTagsFromAnswer(write: { response: Response }): string[] {
  const named = (write.response.headers.get(PURGE_TAGS_HEADER) ?? '')
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => /^product:[^,\s]{1,128}$/.test(tag));
  return named.length ? [PRODUCTS_LIST_TAG, ...new Set(named)] : [];
}
