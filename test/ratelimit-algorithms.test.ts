/**
 * Each algorithm's scenario and the several-policies scenarios (test/support/ratelimit-algorithms.ts)
 * against the in-memory store with an injected clock: every time and count exact. The same
 * scenarios run against Redis, Redis Cluster and Upstash REST in ratelimit-algorithms-*.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryStore } from '../src/ratelimit/memoryStore.js';
import {
  fixedWindowWithoutPenaltyScenario,
  injectedClock,
  multiPolicyScenario,
  penaltyInMultiPolicyScenario,
  refundScenario,
  slidingWindowScenario,
  storeTarget,
  tokenBucketScenario,
} from './support/ratelimit-algorithms.js';

describe('MemoryStore, injected clock: each algorithm exactly', () => {
  const target = (): ReturnType<typeof storeTarget> => {
    const clock = injectedClock();
    return storeTarget(new MemoryStore({ now: clock.now }), clock);
  };

  test('fixed window without a penalty: counts down, then limited (not blocked) until the window ends; Retry-After is when a new window starts', async () => {
    await fixedWindowWithoutPenaltyScenario(target());
  });

  test('sliding window: counts down, the previous window weighted by its overlap, Retry-After is when a request passes', async () => {
    await slidingWindowScenario(target());
  });

  test('token bucket: full when new, a burst takes the capacity, Retry-After is when a token is back, refills, never above capacity', async () => {
    await tokenBucketScenario(target());
  });

  test('several checks of one key: decisions in order, an enforced rejection charges no other check, shadow checks charged and never reject', async () => {
    await multiPolicyScenario(target());
  });

  test('several checks of one key: a rejecting fixed window with a penalty starts its block; the others are not charged', async () => {
    await penaltyInMultiPolicyScenario(target());
  });

  test('refunds: given back in the window charged, never into another, never beyond the capacity', async () => {
    await refundScenario(target());
  });

  test('a refund after a penalty block does not reach the window started after it', async () => {
    const clock = injectedClock();
    const store = new MemoryStore({ now: clock.now });
    const limit = { algorithm: 'fixed-window', limit: 100, windowMs: 60_000, penaltyMs: 10_000 } as const;
    const check = (cost: number) => ({ name: 'points', limit, cost });
    const a = (await store.decide('k', [check(50)])).decisions[0]!;
    assert.ok(a.allowed);
    clock.advance(1000);
    assert.equal((await store.decide('k', [check(60)])).decisions[0]!.allowed, false, 'over the limit: a block of 10 s');
    clock.advance(10_000);
    assert.ok((await store.decide('k', [check(90)])).decisions[0]!.allowed, 'a new window after the block');
    clock.advance(9000);
    // The first request, charged 20 s ago in the window that the block ended, gets 50 back: not into this one.
    await store.refund('k', [{ check: check(50), amount: 50, resetMs: a.resetMs, elapsedMs: 20_000 }]);
    const last = (await store.decide('k', [check(10)])).decisions[0]!;
    assert.deepEqual(last.allowed && last.remaining, 0, '90 + 10 of 100: nothing was given back');
  });
});
