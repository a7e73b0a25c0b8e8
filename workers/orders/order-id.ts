/**
 * An order's id, derived from who placed it and their Idempotency-Key: the same key from the same
 * user always names the same order (and so the same saga object), whichever isolate takes the
 * retry, with no lookup table to race on. 128 bits of SHA-256, hex.
 */
export async function orderIdFor(userId: string, idempotencyKey: string): Promise<string> {
  const bytes = new TextEncoder().encode(`${userId}\n${idempotencyKey}`);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return `ord_${Array.from(digest.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
