import { and, asc, desc, eq, gt, or, sql, type SQL } from 'drizzle-orm';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { products, type ProductRow } from './schema';
import type { ProductInput, ProductPatch } from './product-schemas';

/** `%` and `_` in a search term are literal text, not wildcards. */
const escapeLike = (term: string) => term.replace(/[\\%_]/g, (ch) => `\\${ch}`);

export interface ProductPage {
  rows: ProductRow[];
  /** The id to continue after, when there is a next page. */
  nextAfterId: string | null;
}

/** Products in the catalog's D1. Keyset pagination by id: stable under inserts, O(page) per page. */
export class ProductRepository {
  constructor(private readonly db: DrizzleD1Database) {}

  async list(options: { limit: number; afterId?: string; q?: string }): Promise<ProductPage> {
    const filters: SQL[] = [];
    if (options.afterId) filters.push(gt(products.id, options.afterId));
    if (options.q) {
      const pattern = `%${escapeLike(options.q)}%`;
      // SQLite's LIKE is case-insensitive for ASCII; ESCAPE makes `\%` a literal percent.
      filters.push(
        or(sql`${products.name} LIKE ${pattern} ESCAPE '\\'`, sql`${products.description} LIKE ${pattern} ESCAPE '\\'`)!,
      );
    }
    // One row more than asked tells whether a next page exists without a COUNT.
    const rows = await this.db
      .select()
      .from(products)
      .where(filters.length ? and(...filters) : undefined)
      .orderBy(asc(products.id))
      .limit(options.limit + 1);
    const hasMore = rows.length > options.limit;
    const page = hasMore ? rows.slice(0, options.limit) : rows;
    return { rows: page, nextAfterId: hasMore ? (page.at(-1)?.id ?? null) : null };
  }

  /**
   * The popular products: most units sold (order.completed events), then most viewed, ties by
   * id. Also the gateway's degraded answer when listing fails ("most viewed" falls back to this).
   */
  async popular(limit: number): Promise<ProductRow[]> {
    return this.db.select().from(products).orderBy(desc(products.unitsSold), desc(products.views), asc(products.id)).limit(limit);
  }

  async get(id: string): Promise<ProductRow | undefined> {
    return this.db.select().from(products).where(eq(products.id, id)).get();
  }

  async create(id: string, input: ProductInput): Promise<ProductRow> {
    const [row] = await this.db.insert(products).values({ id, ...input }).returning();
    if (!row) throw new Error('insert returned no row');
    return row;
  }

  /** One statement: the row is changed and returned atomically; undefined when it does not exist. */
  async update(id: string, patch: ProductPatch): Promise<ProductRow | undefined> {
    const [row] = await this.db
      .update(products)
      .set({ ...patch, updatedAt: sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))` })
      .where(eq(products.id, id))
      .returning();
    return row;
  }
}
