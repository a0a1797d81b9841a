import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key that limits and audit aggregation count a client under, from `request.ip` (which
 * Fastify resolves through AGENTPACK_TRUST_PROXY: the socket address, or the right-most
 * X-Forwarded-For entry not written by a trusted proxy). An IPv6 client usually holds a whole
 * /64, so it is counted as that /64; an IPv4-mapped IPv6 address counts as its IPv4 address.
 */
export function clientKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped !== null) return mapped[1] as string;
  if (isIPv4(ip) || !isIPv6(ip)) return ip;
  return `${ipv6Groups(ip).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, in lower-case hex without leading zeros. */
function ipv6Groups(ip: string): string[] {
  const address = ip.split('%')[0] as string;
  const [head = '', tail] = address.split('::');
  const parse = (part: string): string[] => {
    if (part === '') return [];
    return part.split(':').flatMap((group) => {
      // An embedded IPv4 tail (::1.2.3.4) is two groups.
      if (!group.includes('.')) return [group];
      const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
      return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
    });
  };
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const zeros = Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...zeros, ...right].map((group) => Number.parseInt(group, 16).toString(16));
}
