/**
 * The network a client address stands for, as a rate-limit key: an IPv4 address itself, an IPv6
 * address's /64 prefix. One IPv6 subscriber usually holds a whole /64 and can pick any address in
 * it, so keying by the full address would give them 2^64 fresh buckets. Returns null for anything
 * that is not an address.
 */
export function clientNetwork(address: string): string | null {
  const ip = address.trim().toLowerCase();
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) return ip.split('.').every((part) => Number(part) <= 255) ? ip : null;
  if (!/^[0-9a-f:.]{2,45}$/.test(ip) || !ip.includes(':')) return null;
  const halves = ip.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
  const count = (list: string[]) => list.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const missing = 8 - count(head) - count(tail);
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const full = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (full.slice(0, 4).some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  return `${full.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
