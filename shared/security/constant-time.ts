/**
 * Compares two secrets without leaking, through timing, how much of them matched. Both sides are
 * hashed first, so the comparison always runs over 32 bytes whatever the inputs' lengths.
 * (workerd has `crypto.subtle.timingSafeEqual`, but it is not a web standard; this runs anywhere.)
 */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(a)),
    crypto.subtle.digest('SHA-256', encoder.encode(b)),
  ]);
  const x = new Uint8Array(ha);
  const y = new Uint8Array(hb);
  let difference = 0;
  for (let i = 0; i < x.length; i++) difference |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return difference === 0;
}
