import ipaddr from 'ipaddr.js';

/**
 * Parses an address as a client writes or a socket reports it: IPv4, IPv6, IPv4-mapped IPv6
 * (becomes IPv4), `[v6]:port` and `v4:port` forms. Undefined when it is not an address.
 */
export function parseIp(raw: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  let text = raw.trim();
  if (text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1);
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed?.[1]) text = bracketed[1];
  else if (/^[\d.]+:\d+$/.test(text)) text = text.slice(0, text.lastIndexOf(':'));
  // Zone ids (fe80::1%eth0) are local detail, not identity.
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  if (!ipaddr.isValid(text)) return undefined;
  try {
    const address = ipaddr.parse(text);
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
      return (address as ipaddr.IPv6).toIPv4Address();
    }
    return address;
  } catch {
    return undefined;
  }
}

/**
 * The rate-limit identity of an address: IPv4 as is, IPv6 grouped by its /64 prefix (one
 * subscriber usually holds a whole /64, so per-address keys would let it rotate freely).
 */
export function addressKey(address: ipaddr.IPv4 | ipaddr.IPv6): string {
  if (address.kind() === 'ipv4') return address.toString();
  const parts = (address as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
  return `${parts.join(':')}::/64`;
}
