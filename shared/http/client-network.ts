/**
 * The network a client address stands for, as a rate-limit key: an IPv4 address itself, an IPv6
 * address's /64 prefix. One IPv6 subscriber usually holds a whole /64 and can pick any address in
 * it, so keying by the full address would give them 2^64 fresh buckets. An IPv4-mapped IPv6
 * address (::ffff:203.0.113.9, ::ffff:cb00:7109) is the IPv4 client it maps: a dual-stack socket
 * (Bun or Deno listening on `::`) reports every IPv4 peer that way, and their shared /64 would put
 * all of them in one bucket. Returns null for anything that is not an address.
 */
export function clientNetwork(address: string): string | null {
  const parsed = parseAddress(address);
  if (!parsed) return null;
  return typeof parsed === 'string' ? parsed : `${parsed.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/**
 * One spelling per address, to compare addresses by: IPv4 dotted (an IPv4-mapped IPv6 address as
 * the IPv4 it maps), IPv6 as its eight groups in lower-case hex without leading zeros
 * (`2001:db8:0:0:0:0:0:1`). Null for anything that is not an address.
 */
export function canonicalAddress(address: string): string | null {
  const parsed = parseAddress(address);
  if (!parsed) return null;
  return typeof parsed === 'string' ? parsed : parsed.map((g) => g.toString(16)).join(':');
}

/** An IPv4 address (dotted; an IPv4-mapped IPv6 address too) or an IPv6 address's eight groups, or null. */
function parseAddress(address: string): string | number[] | null {
  const ip = address.trim().toLowerCase();
  if (ip.includes('.') && !ip.includes(':')) return ipv4(ip);
  const groups = ipv6Groups(ip);
  if (!groups) return null;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return groups;
}

/** A dotted IPv4 address as written, or null. */
function ipv4(ip: string): string | null {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) return null;
  return ip.split('.').every((part) => Number(part) <= 255) ? ip : null;
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, an embedded IPv4 tail as two), or null. */
function ipv6Groups(ip: string): number[] | null {
  if (!/^[0-9a-f:.]{2,45}$/.test(ip) || !ip.includes(':')) return null;
  const halves = ip.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string | undefined, last: boolean): number[] | null => {
    const out: number[] = [];
    const pieces = part ? part.split(':') : [];
    for (const [i, piece] of pieces.entries()) {
      if (/^[0-9a-f]{1,4}$/.test(piece)) out.push(parseInt(piece, 16));
      else if (last && i === pieces.length - 1 && ipv4(piece)) {
        const [a, b, c, d] = piece.split('.').map(Number) as [number, number, number, number];
        out.push((a << 8) | b, (c << 8) | d);
      } else return null;
    }
    return out;
  };
  const head = parse(halves[0], halves.length === 1);
  const tail = parse(halves[1], true);
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  return [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
}
