/**
 * Test only (SAGA_CRASH_PERCENT): a stable 0..99 bucket of an order id (FNV-1a), so the same
 * orders are restarted mid-charge on every run, and the chaos test can name them.
 */
export function crashBucket(orderId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < orderId.length; i++) hash = Math.imul(hash ^ orderId.charCodeAt(i), 0x01000193) >>> 0;
  return hash % 100;
}
