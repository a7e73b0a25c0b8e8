import { z } from 'zod';
import type { ProductRow } from './schema';

/** The product as the API shows it (docs/api.md): no timestamps, amounts in minor units. */
export interface Product {
  id: string;
  name: string;
  description: string;
  priceCents: number;
  currency: string;
  stock: number;
}

export const toProduct = (row: ProductRow): Product => ({
  id: row.id,
  name: row.name,
  description: row.description,
  priceCents: row.priceCents,
  currency: row.currency,
  stock: row.stock,
});

/** Largest amount accepted: well inside 2^53 so JSON and SQLite integers stay exact. */
const MAX_MINOR_UNITS = 1_000_000_000_00;

export const productFields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2_000),
  priceCents: z.number().int().min(0).max(MAX_MINOR_UNITS),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD'),
  stock: z.number().int().min(0).max(1_000_000_000),
};

export const productInput = z.object({ ...productFields, description: productFields.description.default('') }).strict();

/**
 * PUT is a partial update (docs/api.md): any subset of the fields, but at least one. Built from the
 * fields without their defaults: a default here would silently overwrite what was not sent.
 */
export const productPatch = z
  .object(productFields)
  .partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, { message: 'at least one field is required' });

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
  q: z.string().trim().max(100).optional(),
});

export const popularQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) });

export const productIdParam = z.object({ id: z.string().min(1).max(64) });

export type ProductInput = z.infer<typeof productInput>;
export type ProductPatch = z.infer<typeof productPatch>;
