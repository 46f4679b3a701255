/**
 * Subgraph URLs a deployed Worker cannot reach: loopback and literal private addresses. A Worker
 * cannot resolve names to check them, so only `localhost` and literal IP addresses are judged;
 * a public name that resolves to a private address is Cloudflare's to refuse.
 */
import ipaddr from 'ipaddr.js';

export interface SubgraphUrl {
  readonly name: string;
  readonly url: string;
}

/** The subgraphs a supergraph names, from its `join__Graph` enum (`@join__graph(name:, url:)`). */
export function subgraphUrls(supergraphSdl: string): SubgraphUrl[] {
  const found: SubgraphUrl[] = [];
  const pattern = /@join__graph\(\s*name:\s*"([^"]*)"\s*,?\s*url:\s*"([^"]*)"\s*\)/g;
  for (const match of supergraphSdl.matchAll(pattern)) found.push({ name: match[1] ?? '', url: match[2] ?? '' });
  return found;
}

const privateRanges = new Set(['loopback', 'private', 'linkLocal', 'uniqueLocal', 'unspecified', 'carrierGradeNat']);

/** Whether `url`'s host is `localhost` (or under it) or a literal loopback or private address. */
export function isPrivateUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (!ipaddr.isValid(literal)) return false;
  let address = ipaddr.parse(literal);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    address = (address as ipaddr.IPv6).toIPv4Address();
  }
  return privateRanges.has(address.range());
}

/** The subgraphs of a supergraph that sit on loopback or literal private addresses. */
export function privateSubgraphs(supergraphSdl: string): SubgraphUrl[] {
  return subgraphUrls(supergraphSdl).filter(({ url }) => isPrivateUrl(url));
}

const problemPrefix = 'The supergraph names subgraphs on loopback or private addresses';

/**
 * Why a supergraph cannot be served from a deployed Worker (its subgraphs on loopback or private
 * addresses), in words safe to show the client; undefined when it can.
 */
export function privateSubgraphsProblem(supergraphSdl: string): string | undefined {
  const unreachable = privateSubgraphs(supergraphSdl);
  if (unreachable.length === 0) return undefined;
  const list = unreachable.map(({ name, url }) => `${name} (${new URL(url).host})`).join(', ');
  return `${problemPrefix}, which a deployed Worker cannot reach: ${list}. Give them public URLs, or set ALLOW_PRIVATE_SUBGRAPHS=true for local development.`;
}

/** Whether a supergraph update's error is `privateSubgraphsProblem`'s (and so safe to show). */
export function isPrivateSubgraphsProblem(error: string): boolean {
  return error.startsWith(problemPrefix);
}
