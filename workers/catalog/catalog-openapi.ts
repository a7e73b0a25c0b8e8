import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { header, jsonBody, jsonResponse, problemResponse, validationProblem } from '../../shared/openapi/describe';
import { listQuery, popularQuery, productFields, productIdParam, productInput, productPatch } from './product-schemas';
import { describesExactly, type SameShape } from '../../shared/openapi/same-type';
import type { Product } from './product-schemas';

/**
 * The catalog's public routes as OpenAPI, at the service's own paths (`/products`): the gateway
 * maps them to `/api/catalog/...` and adds what it does at the edge (workers/gateway/openapi).
 * Requests are described by the schemas product-routes.ts validates with.
 */

/** A product as the API shows it (product-schemas.ts `toProduct`). */
export const productView = z.strictObject({ id: z.string(), ...productFields });

const product = {
  id: 'prod_7f3c2a9b1e4d4c0a8b6e5f4d3c2b1a09',
  name: 'Trail running shoes',
  description: 'Light, grippy, waterproof.',
  priceCents: 12_900,
  currency: 'USD',
  stock: 42,
};

const productList = z.strictObject({
  items: z.array(productView),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; `null` on the last one.'),
});

const notFound = problemResponse(404, 'No such product.', 'No product with id prod_0.');
const adminOnly = {
  401: problemResponse(401, 'No access token (or one that does not verify).', 'Authentication is required.', { 'WWW-Authenticate': header.wwwAuthenticate }),
  403: problemResponse(403, 'The caller lacks the admin role.', 'The admin role is required.'),
};
const badProduct = problemResponse(400, 'The body is not a valid product.', validationProblem([{ path: 'priceCents', message: 'Too small: expected number to be >=0' }]));

export const catalogApi = [
  createRoute({
    method: 'get',
    path: '/products',
    summary: 'List products',
    description: 'A page of products by id; `q` searches names. Cached at the edge (see `x-cache`).',
    request: { query: listQuery },
    responses: {
      200: jsonResponse('A page of products.', productList, { items: [product], nextCursor: 'eyJhZnRlciI6InByb2RfN2YzYyJ9' }),
      400: problemResponse(400, 'A bad limit or cursor.', validationProblem([{ path: 'limit', message: 'Too big: expected number to be <=100' }])),
    },
  }),
  createRoute({
    method: 'get',
    path: '/products/popular',
    summary: 'Most viewed products',
    description: 'The same shape as the list; the gateway answers a failed first page of the list with it (degraded fallback).',
    request: { query: popularQuery },
    responses: { 200: jsonResponse('The most viewed products, most first.', productList, { items: [product], nextCursor: null }) },
  }),
  createRoute({
    method: 'get',
    path: '/products/{id}',
    summary: 'One product',
    request: { params: productIdParam },
    responses: { 200: jsonResponse('The product.', productView, product), 404: notFound },
  }),
  createRoute({
    method: 'post',
    path: '/products',
    summary: 'Create a product (admin)',
    description: 'Purges the cached product lists at the edge.',
    request: { body: jsonBody(productInput, { name: product.name, description: product.description, priceCents: product.priceCents, currency: 'USD', stock: 42 }) },
    responses: { 201: jsonResponse('The product, created.', productView, product, { Location: header.location }), 400: badProduct, ...adminOnly },
  }),
  createRoute({
    method: 'put',
    path: '/products/{id}',
    summary: 'Change a product (admin)',
    description: 'Any subset of the fields, at least one. Purges that product and the lists at the edge.',
    request: { params: productIdParam, body: jsonBody(productPatch, { priceCents: 9_900, stock: 40 }) },
    responses: { 200: jsonResponse('The product, changed.', productView, { ...product, priceCents: 9_900, stock: 40 }), 400: badProduct, ...adminOnly, 404: notFound },
  }),
];

// The answers' schemas are exactly the handlers' types (shared/openapi/same-type.ts).
describesExactly<SameShape<z.output<typeof productView>, Product>>();
