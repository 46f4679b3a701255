import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { credentialIdentity, maxIdentityLength, maxTierLength, type Identity } from './identity.js';

/** JWT verification settings (`Config.identity.jwt`): exactly one of `jwksUrl` and `secret`. */
export interface JwtConfig {
  /** `JWT_JWKS_URL`: RS256, ES256 and EdDSA keys. */
  readonly jwksUrl: string | undefined;
  /** `JWT_SECRET`: an HS256 shared secret. */
  readonly secret: string | undefined;
  readonly issuer: string | undefined;
  readonly audience: string | undefined;
  /** The claim naming the identity (`sub`). */
  readonly identityClaim: string;
  /** The claim naming the tier; unset: every token's tier is `default`. */
  readonly tierClaim: string | undefined;
  readonly clockToleranceSeconds: number;
  /** The deadline of one JWKS fetch. */
  readonly jwksTimeoutMs: number;
  /** At most one JWKS refetch per this interval (unknown `kid`, stale keys, after a failure). */
  readonly jwksCooldownMs: number;
}

/** The algorithms each kind of key accepts: `none` and HS256-with-a-public-key never pass. */
export const jwksAlgorithms = ['RS256', 'ES256', 'EdDSA'];
export const secretAlgorithms = ['HS256'];

/** A token longer than this is refused unread (a 64 KB `Authorization` costs a length check). */
export const maxTokenLength = 8192;

/** The token of `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(authorization: string | null): string | undefined {
  if (authorization === null || authorization.length > maxTokenLength + 7) return undefined;
  const match = /^Bearer[ \t]+([A-Za-z0-9\-_.~+/]+=*)[ \t]*$/i.exec(authorization);
  return match?.[1];
}

/**
 * The identity a verified payload names: the identity claim (a string, or a number written as
 * one) and the tier claim (a string). Undefined when the identity claim is missing, empty or
 * too long: a verified token that names nobody is no identity.
 */
export function payloadIdentity(payload: JWTPayload, identityClaim: string, tierClaim: string | undefined): Identity | undefined {
  const raw = payload[identityClaim];
  const id = typeof raw === 'string' ? raw : typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : undefined;
  if (id === undefined || id === '' || id.length > maxIdentityLength) return undefined;
  const tier = tierClaim === undefined ? undefined : payload[tierClaim];
  return credentialIdentity('jwt', id, typeof tier === 'string' && tier !== '' && tier.length <= maxTierLength ? tier : undefined);
}

export interface JwtVerifierDeps {
  /** Wall-clock milliseconds: token times and the key cache's ages. */
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
}

/** Verifies a token; undefined for any token that fails any check, and when no keys can be had. */
export type JwtVerifier = (token: string) => Promise<Identity | undefined>;

/**
 * A verifier for the configuration's keys. With a secret, HS256 only. With a JWKS URL, the keys
 * come from `JwksCache`: fetched by the request that needs them, kept as keys (never as a shared
 * promise: workerd cancels a request that waits on another request's I/O), refetched for a `kid`
 * they lack at most once per cooldown.
 *
 * @example const verify = createJwtVerifier(config.identity.jwt); await verify(token) // { source: 'jwt', id: 'alice', … }
 */
export function createJwtVerifier(config: JwtConfig, deps: JwtVerifierDeps = {}): JwtVerifier {
  const now = deps.now ?? Date.now;
  return rememberVerified(verifierOf(config, deps, now), now);
}

/** A verified token's identity and its `exp` (epoch seconds), if it has one. */
interface Verified {
  readonly identity: Identity | undefined;
  readonly exp: number | undefined;
}

/** Most verified tokens remembered, and the longest; a longer token is verified every time. */
const maxRemembered = 5000;
const maxRememberedLength = 2048;
/** How long a verified token is taken on trust without verifying it again (never past its `exp`). */
export const verifiedTokenTtlMs = 60_000;

/**
 * Verifies each token once and remembers the outcome by the token's text for a minute, never past
 * its `exp`: a client sends the same token with every request, and a verification costs 0.1–0.3 ms
 * of CPU (bench/jwt.ts). Only tokens that verified are remembered (random garbage takes no room);
 * at most `maxRemembered`, the oldest dropped first. A key removed from the JWKS stops a token it
 * signed within the minute.
 */
function rememberVerified(verify: (token: string) => Promise<Verified | undefined>, now: () => number): JwtVerifier {
  const remembered = new Map<string, { identity: Identity | undefined; until: number }>();
  return async (token) => {
    const at = now();
    const known = remembered.get(token);
    if (known) {
      if (known.until > at) return known.identity;
      remembered.delete(token);
    }
    const verified = await verify(token);
    if (verified === undefined) return undefined;
    if (token.length <= maxRememberedLength) {
      const until = Math.min(at + verifiedTokenTtlMs, verified.exp === undefined ? Number.POSITIVE_INFINITY : verified.exp * 1000);
      if (remembered.size >= maxRemembered) remembered.delete(remembered.keys().next().value!);
      if (until > at) remembered.set(token, { identity: verified.identity, until });
    }
    return verified.identity;
  };
}

function verifierOf(config: JwtConfig, deps: JwtVerifierDeps, now: () => number): (token: string) => Promise<Verified | undefined> {
  const options = (algorithms: string[]) => ({
    algorithms,
    clockTolerance: config.clockToleranceSeconds,
    ...(config.issuer !== undefined ? { issuer: config.issuer } : {}),
    ...(config.audience !== undefined ? { audience: config.audience } : {}),
  });
  const identityOf = (payload: JWTPayload): Verified => ({
    identity: payloadIdentity(payload, config.identityClaim, config.tierClaim),
    exp: typeof payload.exp === 'number' ? payload.exp : undefined,
  });

  if (config.secret !== undefined) {
    const secret = new TextEncoder().encode(config.secret);
    // Given the secret as bytes, jose imports it into a CryptoKey on every verification, about
    // half the CPU of one; imported once here, by the first request that needs it, and kept as a
    // key (not as a promise other requests wait on, which workerd cancels: see JwksCache).
    let key: CryptoKey | Uint8Array = secret;
    const verifyOptions = options(secretAlgorithms);
    return async (token) => {
      try {
        if (key === secret) key = await importHmacKey(secret);
        const { payload } = await jwtVerify(token, key, { ...verifyOptions, currentDate: new Date(now()) });
        return identityOf(payload);
      } catch {
        return undefined;
      }
    };
  }
  if (config.jwksUrl === undefined) return async () => undefined;
  const keys = new JwksCache(config.jwksUrl, {
    now,
    fetch: deps.fetch ?? ((input, init) => fetch(input, init)),
    timeoutMs: config.jwksTimeoutMs,
    cooldownMs: config.jwksCooldownMs,
  });
  const verifyOptions = options(jwksAlgorithms);
  const attempt = async (set: JWTVerifyGetKey, token: string) => {
    const { payload } = await jwtVerify(token, set, { ...verifyOptions, currentDate: new Date(now()) });
    return identityOf(payload);
  };
  return async (token) => {
    const set = await keys.current();
    if (set === undefined) return undefined;
    try {
      return await attempt(set, token);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ERR_JWKS_NO_MATCHING_KEY') return undefined;
    }
    // A key the set lacks: rotated in since the last fetch, or made up. Refetch, at most once per cooldown.
    const fresh = await keys.refetch(set);
    if (fresh === undefined) return undefined;
    try {
      return await attempt(fresh, token);
    } catch {
      return undefined;
    }
  };
}

/** The HS256 verification key of `secret`; the bytes themselves if the import fails (jose then imports them per call). */
async function importHmacKey(secret: Uint8Array<ArrayBuffer>): Promise<CryptoKey | Uint8Array> {
  try {
    return await crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  } catch {
    return secret;
  }
}

export interface JwksCacheOptions {
  readonly now: () => number;
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
  /** Keys older than this are refetched (and kept if the refetch fails). */
  readonly maxAgeMs?: number;
  /** At most one refetch per this interval for an unknown `kid` or stale keys, and after a failure. */
  readonly cooldownMs?: number;
}

/** The largest JWKS document read. */
const maxJwksBytes = 512 * 1024;

/**
 * A JSON Web Key Set fetched from a URL and kept as keys. Every fetch belongs to the request that
 * makes it and is bounded by the deadline; one that fails (down, slow, 500, HTML, no `keys`)
 * leaves the keys as they were. With no keys yet, each request may fetch, unless one failed within
 * the cooldown; with keys, one refetch per cooldown (stale keys, unknown `kid`).
 */
export class JwksCache {
  #keys: { readonly set: JWTVerifyGetKey; readonly fetchedAt: number } | undefined;
  #lastAttempt = -Infinity;
  #lastFailure = -Infinity;
  readonly #url: string;
  readonly #options: Required<JwksCacheOptions>;

  constructor(url: string, options: JwksCacheOptions) {
    this.#url = url;
    this.#options = { maxAgeMs: 600_000, cooldownMs: 30_000, ...options };
  }

  /** The keys to verify with: fetched when there are none, refreshed when stale. */
  async current(): Promise<JWTVerifyGetKey | undefined> {
    const keys = this.#keys;
    const now = this.#options.now();
    if (keys !== undefined && now - keys.fetchedAt < this.#options.maxAgeMs) return keys.set;
    return (await this.#fetchIfAllowed(now)) ?? keys?.set;
  }

  /** New keys after `seen` lacked a `kid`: undefined when none were fetched (cooldown, failure) or nothing changed. */
  async refetch(seen: JWTVerifyGetKey): Promise<JWTVerifyGetKey | undefined> {
    if (this.#keys !== undefined && this.#keys.set !== seen) return this.#keys.set; // another request already refetched
    const fresh = await this.#fetchIfAllowed(this.#options.now());
    return fresh === seen ? undefined : fresh;
  }

  async #fetchIfAllowed(now: number): Promise<JWTVerifyGetKey | undefined> {
    const { cooldownMs } = this.#options;
    if (now - this.#lastFailure < cooldownMs) return undefined;
    if (this.#keys !== undefined && now - this.#lastAttempt < cooldownMs) return undefined;
    this.#lastAttempt = now;
    const document = await this.#fetch();
    if (document === undefined) {
      this.#lastFailure = this.#options.now();
      return undefined;
    }
    const set = createLocalJWKSet(document);
    this.#keys = { set, fetchedAt: this.#options.now() };
    return set;
  }

  async #fetch(): Promise<JSONWebKeySet | undefined> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#options.timeoutMs);
    try {
      const deadline = new Promise<undefined>((resolve) => controller.signal.addEventListener('abort', () => resolve(undefined)));
      const read = async (): Promise<JSONWebKeySet | undefined> => {
        const response = await this.#options.fetch(this.#url, { signal: controller.signal, headers: { accept: 'application/json' } });
        if (!response.ok) {
          await response.body?.cancel();
          return undefined;
        }
        const text = await response.text();
        if (text.length > maxJwksBytes) return undefined;
        const parsed: unknown = JSON.parse(text);
        const keys = (parsed as { keys?: unknown } | null)?.keys;
        return Array.isArray(keys) ? { keys: keys.filter((k) => k !== null && typeof k === 'object') } : undefined;
      };
      return await Promise.race([read().catch(() => undefined), deadline]);
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
  }
}
