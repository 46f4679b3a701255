/**
 * Each algorithm's scenario and the several-policies scenarios (test/support/ratelimit-algorithms.ts)
 * against the in-memory store with an injected clock: every time and count exact. The same
 * scenarios run against Redis, Redis Cluster and Upstash REST in ratelimit-algorithms-*.test.ts.
 */
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
});
