/**
 * The identity workload: an HS256 secret the gateway under test is given (`JWT_SECRET`), valid
 * bearer tokens for a few hundred users signed with it, and three policies whose limits no run
 * reaches, so every request is decided and none is rejected.
 */
import { SignJWT } from 'jose';

/** `JWT_SECRET` of the gateways that verify tokens in the benchmark (a benchmark's, nothing else's). */
export const benchJwtSecret = 'tollgate-bench-hs256-secret-0123456789abcdef';

/** Far above any run's requests. */
const high = 1_000_000_000;
/** The `user` policy's limit for tokens of tier `pro`. */
export const proLimit = high - 1;

/**
 * `RATE_LIMIT_POLICIES` of the three-policy runs: a fixed window with a penalty on the address,
 * a sliding window (with tiers) and a token bucket on the verified identity.
 */
export const threePoliciesJson = JSON.stringify([
  { name: 'ip', key: 'ip', algorithm: 'fixed-window', limit: high, window: 60, penalty: 40 },
  // The `pro` tier's own limit shows in `RateLimit-Policy`: a check that tokens are verified and their tier read.
  { name: 'user', key: 'identity', algorithm: 'sliding-window', limit: { default: high, pro: proLimit }, window: 60 },
  { name: 'burst', key: 'identity', algorithm: 'token-bucket', limit: high, refillPerSecond: high },
]);

/** `count` tokens for users `user-0`… (every tenth of tier `pro`), valid for `hours`. */
export async function userTokens(count: number, hours = 2): Promise<string[]> {
  const key = new TextEncoder().encode(benchJwtSecret);
  const now = Math.floor(Date.now() / 1000);
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      new SignJWT({ tier: i % 10 === 0 ? 'pro' : 'free' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(`user-${i}`)
        .setIssuedAt(now)
        .setExpirationTime(now + hours * 3600)
        .sign(key),
    ),
  );
}

/** Each call the next token of the pool as an `Authorization` header. */
export function bearerHeaders(tokens: readonly string[]): () => Record<string, string> {
  let i = 0;
  const headers = tokens.map((token) => ({ authorization: `Bearer ${token}` }));
  return () => headers[i++ % headers.length]!;
}
