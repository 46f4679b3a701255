/**
 * Who is asking (docs/architecture.md, "Identity"): the sources `RATE_LIMIT_IDENTITY` names, tried
 * in order, and what the first one that yields something gives the request.
 */

/** The credential sources, as `RATE_LIMIT_IDENTITY` names them. */
export const identitySources = ['jwt', 'api-key', 'ip'] as const;
export type IdentitySource = (typeof identitySources)[number];

/** The namespace of each source in store keys and logs: a key named `alice` is not the user `alice`. */
export const identityNamespace: Readonly<Record<IdentitySource, string>> = { jwt: 'jwt', 'api-key': 'key', ip: 'ip' };

/** The tier of an identity that names none (and of every address). */
export const defaultTier = 'default';

/**
 * One request's identity.
 *
 * `key` is what the rate limit counts under: `jwt:<claim>`, `key:<name>`, or, for an address, the
 * address key exactly as before identities existed (`203.0.113.9`, `2001:db8:0:1::/64`): counters
 * already in Redis keep counting, and no address key can start with `jwt:` or `key:`, so the
 * namespaces cannot meet. `name` is the namespaced form logs use (`ip:203.0.113.9`).
 */
export interface Identity {
  readonly source: IdentitySource;
  /** The identity within its source: the claim's value, the key's name, the address key. */
  readonly id: string;
  readonly tier: string;
  /** The rate-limit store key. */
  readonly key: string;
}

/** The identity of a verified credential (`jwt`, `api-key`). */
export function credentialIdentity(source: Exclude<IdentitySource, 'ip'>, id: string, tier: string | undefined): Identity {
  return { source, id, tier: tier ?? defaultTier, key: `${identityNamespace[source]}:${id}` };
}

/** The identity of an address key (`clientKey`): the store key is the address key itself. */
export function addressIdentity(address: string): Identity {
  return { source: 'ip', id: address, tier: defaultTier, key: address };
}

/** `jwt:alice`, `key:acme`, `ip:203.0.113.9`. */
export function identityName(identity: Identity): string {
  return `${identityNamespace[identity.source]}:${identity.id}`;
}

/** Longest identity (claim value, key name) and tier accepted; longer ones yield no identity. */
export const maxIdentityLength = 256;
export const maxTierLength = 64;
