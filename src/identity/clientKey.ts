import type ipaddr from 'ipaddr.js';
import { addressKey, parseIp } from './ip.js';
import { isTrusted, type TrustProxy } from './trustProxy.js';

/** The key used when no address at all can be found (a Worker request without CF-Connecting-IP). */
export const unknownClient = 'unknown';

/**
 * The client key of a request: the connection's address, or, only where `trust` says a proxy
 * put them there, forwarding headers read from the right (docs/architecture.md, "Client identity").
 *
 * @param peer the socket's remote address (Node); undefined on Workers.
 */
export function clientKey(headers: Headers, peer: string | undefined, trust: TrustProxy): string {
  if (trust.kind === 'cloudflare') {
    const key = rememberedKey(headers.get('cf-connecting-ip') ?? '');
    if (key !== undefined) return key;
    return (peer === undefined ? undefined : rememberedKey(peer)) ?? unknownClient;
  }
  if (trust.kind === 'none') return peer === undefined ? unknownClient : peerKey(peer);
  const socket = peer === undefined ? undefined : parseIp(peer);
  if (!socket) return unknownClient;

  // The chain nearest-first: the socket, then forwarded addresses from the right.
  const forwarded = forwardedChain(headers);
  let client = socket;
  for (let hop = 0; hop < forwarded.length; hop++) {
    const trustedHop = trust.kind === 'hops' ? hop < trust.hops : isTrusted(client, trust);
    if (!trustedHop) break;
    const next = forwarded[forwarded.length - 1 - hop];
    if (!next) break; // An unparsable entry: stop at the last address a trusted hop vouched for.
    client = next;
  }
  return addressKey(client);
}

/**
 * Keys of recent addresses (a socket's, or Cloudflare's `CF-Connecting-IP`): a busy client's
 * requests all come from one address. `null`: not an address.
 */
const recentKeys = new Map<string, string | null>();
const maxRecentKeys = 1024;
/** Longer text is no address (an IPv6 address with a zone is well under this): never remembered. */
const maxAddressLength = 64;

/** `addressKey(parseIp(raw))`, or undefined when `raw` is not an address; remembered for recent addresses. */
function rememberedKey(raw: string): string | undefined {
  let key = recentKeys.get(raw);
  if (key === undefined) {
    const address = parseIp(raw);
    key = address ? addressKey(address) : null;
    if (raw.length <= maxAddressLength) {
      if (recentKeys.size >= maxRecentKeys) recentKeys.clear();
      recentKeys.set(raw, key);
    }
  }
  return key ?? undefined;
}

/** The key of a socket's address, or `unknown` when it is none. */
function peerKey(peer: string): string {
  return rememberedKey(peer) ?? unknownClient;
}

/**
 * Forwarded addresses, leftmost first, from `X-Forwarded-For`, else `Forwarded`, else
 * `X-Real-IP`. Entries that are not addresses stay as undefined so the walk stops there.
 */
function forwardedChain(headers: Headers): (ipaddr.IPv4 | ipaddr.IPv6 | undefined)[] {
  const xff = headers.get('x-forwarded-for');
  if (xff !== null) return xff.split(',').map(parseIp);
  const forwarded = headers.get('forwarded');
  if (forwarded !== null) {
    return forwarded.split(',').map((element) => {
      const match = /(?:^|;)\s*for=("[^"]*"|[^;,\s]*)/i.exec(element);
      return match?.[1] ? parseIp(match[1]) : undefined;
    });
  }
  const realIp = headers.get('x-real-ip');
  return realIp !== null ? [parseIp(realIp)] : [];
}
