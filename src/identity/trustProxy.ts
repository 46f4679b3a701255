import ipaddr from 'ipaddr.js';
import { parseIp } from './ip.js';

/**
 * Which forwarding information to believe (docs/architecture.md, "Client identity"):
 * - `none`: the connection's address only;
 * - `cloudflare`: `CF-Connecting-IP`, which Cloudflare sets and a client cannot forge;
 * - `hops`: that many proxies stand in front, so the client is that many entries from the right;
 * - `cidrs`: peers in these ranges are proxies; walk the chain from the right past them.
 */
export type TrustProxy =
  | { readonly kind: 'none' }
  | { readonly kind: 'cloudflare' }
  | { readonly kind: 'hops'; readonly hops: number }
  | { readonly kind: 'cidrs'; readonly ranges: readonly (readonly [ipaddr.IPv4 | ipaddr.IPv6, number])[] };

/** Parses `TRUST_PROXY`; undefined when the value is not valid. */
export function parseTrustProxy(value: string): TrustProxy | undefined {
  const lower = value.trim().toLowerCase();
  if (lower === 'none' || lower === 'false') return { kind: 'none' };
  if (lower === 'cloudflare') return { kind: 'cloudflare' };
  if (/^\d+$/.test(lower)) {
    const hops = Number(lower);
    return hops === 0 ? { kind: 'none' } : hops <= 32 ? { kind: 'hops', hops } : undefined;
  }
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const part of lower
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const named = namedRanges[part];
    const entries = named ?? [part];
    for (const entry of entries) {
      const range = parseRange(entry);
      if (!range) return undefined;
      ranges.push(range);
    }
  }
  return ranges.length > 0 ? { kind: 'cidrs', ranges } : undefined;
}

/** Names accepted in a CIDR list, as in Express's `trust proxy`. */
const namedRanges: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

function parseRange(entry: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined {
  if (!entry.includes('/')) {
    const address = parseIp(entry);
    return address && [address, address.kind() === 'ipv4' ? 32 : 128];
  }
  if (!ipaddr.isValidCIDR(entry)) return undefined;
  const [range, bits] = ipaddr.parseCIDR(entry);
  // Client addresses are compared as IPv4 when IPv4-mapped (src/identity/ip.ts): so are ranges.
  if (range.kind() === 'ipv6' && (range as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96)
    return [(range as ipaddr.IPv6).toIPv4Address(), bits - 96];
  return [range, bits];
}

export function isTrusted(address: ipaddr.IPv4 | ipaddr.IPv6, trust: TrustProxy & { kind: 'cidrs' }): boolean {
  return trust.ranges.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
}
