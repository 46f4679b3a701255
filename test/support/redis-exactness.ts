/** The exactness check shared by the Redis, Upstash and Cluster tests. */
import assert from 'node:assert/strict';
import type { RateLimitPolicy } from '../../src/ratelimit/policy.js';
import type { RateLimitStore } from '../../src/ratelimit/store.js';
import { decideOne } from './decide-one.js';

/**
 * `total` concurrent decisions for one client, spread round-robin over `stores` (one connection
 * each, like that many gateway instances): exactly `policy.limit` are allowed, one is `limited`,
 * the rest `blocked`.
 */
export async function assertExactlyLimitAllowed(
  stores: readonly RateLimitStore[],
  clientKey: string,
  policy: RateLimitPolicy,
  total = 200,
): Promise<void> {
  const decisions = await Promise.all(Array.from({ length: total }, (_, i) => decideOne(stores[i % stores.length]!, clientKey, policy)));
  const allowed = decisions.filter((d) => d.allowed).length;
  const limited = decisions.filter((d) => !d.allowed && d.reason === 'limited').length;
  const blocked = decisions.filter((d) => !d.allowed && d.reason === 'blocked').length;
  assert.deepEqual(
    { allowed, limited, blocked },
    { allowed: policy.limit, limited: 1, blocked: total - policy.limit - 1 },
    `client ${clientKey}`,
  );
  const remaining = decisions.flatMap((d) => (d.allowed ? [d.remaining] : [])).sort((a, b) => a - b);
  assert.deepEqual(
    remaining,
    Array.from({ length: policy.limit }, (_, i) => i),
    'each remaining count handed out once',
  );
}
