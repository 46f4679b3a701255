import { credentialIdentity, maxIdentityLength, maxTierLength, type Identity } from './identity.js';

/** One API key's entry in `API_KEYS`, found by the SHA-256 of the key. */
export interface ApiKeyEntry {
  readonly name: string;
  readonly tier: string | undefined;
}

/**
 * `API_KEYS` parsed: entries bucketed by the first 8 hex characters of their SHA-256 digest, so a
 * lookup goes by a prefix and then compares the whole digest in constant time.
 */
export interface ApiKeyTable {
  readonly size: number;
  readonly buckets: ReadonlyMap<string, readonly (ApiKeyEntry & { readonly digest: string })[]>;
}

const bucketOf = (digest: string): string => digest.slice(0, 8);

/** The longest header value hashed: longer values are not keys (and cost nothing to refuse). */
export const maxApiKeyLength = 512;

/**
 * Parses `API_KEYS` (`{ "<sha256 hex>": { "name": "acme", "tier": "pro" } }`); returns the problem
 * as a string, never the value, since the variable is a list of secrets' digests.
 *
 * @example parseApiKeys('{"9f86…08":{"name":"acme","tier":"pro"}}')
 */
export function parseApiKeys(text: string): ApiKeyTable | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'a JSON object { "<sha256 hex>": { "name": "…", "tier": "…" } } (not valid JSON)';
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return 'a JSON object of SHA-256 hex digests';
  const buckets = new Map<string, (ApiKeyEntry & { digest: string })[]>();
  let size = 0;
  for (const [digest, entry] of Object.entries(parsed as Record<string, unknown>)) {
    if (!/^[0-9a-fA-F]{64}$/.test(digest))
      return `SHA-256 hex digests as keys (64 hex characters; bad: ${JSON.stringify(digest.slice(0, 16))}…)`;
    const { name, tier } = (entry ?? {}) as { name?: unknown; tier?: unknown };
    if (typeof name !== 'string' || name === '' || name.length > maxIdentityLength) {
      return `a "name" (1–${maxIdentityLength} characters) for every key (bad: ${digest.slice(0, 8)}…)`;
    }
    if (tier !== undefined && (typeof tier !== 'string' || tier === '' || tier.length > maxTierLength)) {
      return `a "tier" of 1–${maxTierLength} characters when given (bad: ${digest.slice(0, 8)}…)`;
    }
    const lower = digest.toLowerCase();
    const bucket = buckets.get(bucketOf(lower)) ?? [];
    bucket.push({ digest: lower, name, tier });
    buckets.set(bucketOf(lower), bucket);
    size++;
  }
  return { size, buckets };
}

/**
 * The identity an API key stands for, or undefined for a key not in the table (and for a missing
 * or oversized header). The key is hashed with SHA-256 (WebCrypto: Node and workerd alike), its
 * digest's prefix picks a bucket, and each stored digest there is compared with the computed one
 * in constant time. What the lookup's timing can tell is about a digest's first bytes, which says
 * nothing about a key. Nothing per value is kept, so random keys cost no memory.
 */
export const noApiKeys: ApiKeyTable = { size: 0, buckets: new Map() };

export async function apiKeyIdentity(value: string | null, table: ApiKeyTable): Promise<Identity | undefined> {
  if (value === null || value === '' || value.length > maxApiKeyLength || table.size === 0) return undefined;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value)));
  const hex = toHex(digest);
  let found: ApiKeyEntry | undefined;
  for (const entry of table.buckets.get(bucketOf(hex)) ?? []) {
    if (constantTimeEqual(entry.digest, hex)) found = entry;
  }
  return found && credentialIdentity('api-key', found.name, found.tier);
}

/** The SHA-256 hex digest of a key, as `API_KEYS` lists it (for tools and tests). */
export async function apiKeyDigest(key: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key))));
}

function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** Compares two strings of equal length without stopping at the first difference. */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}
