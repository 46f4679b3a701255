// The token bucket's promise: `resetMs` is when the bucket is whole again. Its refill sum can round
// to just under the capacity at that instant; the bucket must read as full then, as it does in a
// store that has dropped the state at its expiry (the same instant).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tokenBucket, type BucketState, type TokenBucket } from '../../src/ratelimit/policy.js';

test('a token bucket is full at the instant its resetMs names, for any reachable state', () => {
  let seed = 7;
  const rand = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  let checked = 0;
  for (let trial = 0; trial < 20_000; trial++) {
    const policy: TokenBucket = {
      algorithm: 'token-bucket',
      limit: 1 + Math.floor(rand() * 20),
      refillPerSecond: [0.1, 0.3, 0.7, 1.1, 2.5, 3, 7, 13, 20, 33.3][trial % 10]!,
    };
    let state: BucketState | undefined;
    let now = 1_000_000;
    for (let i = 0; i < 6; i++) {
      now += Math.floor(rand() * 200);
      const { decision, next } = tokenBucket(state, now, policy);
      if (next) state = next;
      if (!decision.allowed) continue;
      const whole = tokenBucket(state, now + decision.resetMs, policy).decision;
      assert.deepEqual(
        whole,
        { allowed: true, remaining: policy.limit - 1, resetMs: Math.ceil(1000 / policy.refillPerSecond) },
        JSON.stringify({ policy, state, decision }),
      );
      checked++;
    }
  }
  assert.ok(checked > 10_000);
});
