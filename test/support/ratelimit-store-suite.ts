/**
 * The algorithm scenarios and the exactness checks of ratelimit-algorithms.ts as one `describe`
 * for a shared store (Redis, Redis Cluster, Upstash REST), with the real clock.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Check } from '../../src/ratelimit/policy.js';
import { clientKeys } from '../../src/ratelimit/redis/decideScript.js';
import type { RateLimitStore } from '../../src/ratelimit/store.js';
import {
  burst,
  countdown,
  exactnessChecks,
  fixedWindowWithoutPenaltyScenario,
  multiPolicyScenario,
  penaltyInMultiPolicyScenario,
  refundScenario,
  slidingWindowScenario,
  storeTarget,
  summary,
  tokenBucketScenario,
} from './ratelimit-algorithms.js';

export interface SharedStoreUnderTest {
  /** Several instances of the store over one Redis (one connection each), made in `before`. */
  stores(): readonly RateLimitStore[];
  /** The stores' key prefix. */
  readonly prefix: string;
  /** PTTL of a key, read from Redis directly. */
  pttl(key: string): Promise<number>;
  /** Every key under the prefix. */
  keys(): Promise<string[]>;
}

/** Defines the tests (inside the caller's `describe`). */
export function sharedStoreAlgorithmTests(s: SharedStoreUnderTest): void {
  const store = (): RateLimitStore => s.stores()[0]!;
  let round = 0;
  const key = (name: string): string => `${name}-${round++}`;

  test('fixed window without a penalty: counts down, then limited (not blocked) until the window ends; Retry-After is when a new window starts', async () => {
    await fixedWindowWithoutPenaltyScenario(storeTarget(store()));
  });

  test('sliding window: counts down, the previous window weighted by its overlap, Retry-After is when a request passes', async () => {
    await slidingWindowScenario(storeTarget(store()));
  });

  test('token bucket: full when new, a burst takes the capacity, Retry-After is when a token is back, refills, never above capacity', async () => {
    await tokenBucketScenario(storeTarget(store()));
  });

  test('several checks of one key: decisions in order, an enforced rejection charges no other check, shadow checks charged and never reject', async () => {
    await multiPolicyScenario(storeTarget(store()));
  });

  test('several checks of one key: a rejecting fixed window with a penalty starts its block; the others are not charged', async () => {
    await penaltyInMultiPolicyScenario(storeTarget(store()));
  });

  test('refunds: given back in the window charged, never into another, never beyond the capacity', async () => {
    await refundScenario(storeTarget(store()));
  });

  test('exactness, fixed window without a penalty: 200 concurrent requests over several instances → exactly 50 allowed, the rest limited', async () => {
    for (let i = 0; i < 5; i++) {
      const out = await burst(s.stores(), key('exact-fixed'), [exactnessChecks.fixedWithoutPenalty], 200);
      assert.deepEqual({ allowed: out.allowed, limited: out.limited, blocked: out.blocked }, { allowed: 50, limited: 150, blocked: 0 });
      assert.deepEqual(out.remaining(0), countdown(50), 'each remaining count handed out once');
    }
  });

  test('exactness, fixed window with a penalty: exactly 50 allowed, one limited, the rest blocked', async () => {
    for (let i = 0; i < 5; i++) {
      const out = await burst(s.stores(), key('exact-penalty'), [exactnessChecks.fixedWithPenalty], 200);
      assert.deepEqual({ allowed: out.allowed, limited: out.limited, blocked: out.blocked }, { allowed: 50, limited: 1, blocked: 149 });
      assert.deepEqual(out.remaining(0), countdown(50));
    }
  });

  test('exactness, sliding window: exactly 50 allowed, each remaining count once', async () => {
    for (let i = 0; i < 5; i++) {
      const out = await burst(s.stores(), key('exact-sliding'), [exactnessChecks.sliding], 200);
      assert.deepEqual({ allowed: out.allowed, limited: out.limited }, { allowed: 50, limited: 150 });
      assert.deepEqual(out.remaining(0), countdown(50));
    }
  });

  test('exactness, token bucket: a burst gets exactly the capacity (refill negligible), each remaining count once', async () => {
    for (let i = 0; i < 5; i++) {
      const out = await burst(s.stores(), key('exact-bucket'), [exactnessChecks.bucket], 200);
      assert.deepEqual({ allowed: out.allowed, limited: out.limited }, { allowed: 50, limited: 150 });
      assert.deepEqual(out.remaining(0), countdown(50));
    }
  });

  test('exactness, token bucket refilling at 20/s: a burst gets the capacity plus at most what refilled while it ran', async () => {
    const bucket: Check = { name: 'refilling', limit: { algorithm: 'token-bucket', limit: 20, refillPerSecond: 20 }, cost: 1 };
    for (let i = 0; i < 3; i++) {
      const out = await burst(s.stores(), key('exact-refill'), [bucket], 100);
      const most = 20 + Math.floor((20 * out.elapsedMs) / 1000);
      assert.ok(out.allowed >= 20 && out.allowed <= most, `${out.allowed} allowed, expected 20–${most} (burst of ${out.elapsedMs} ms)`);
    }
  });

  test('exactness, several checks of one key: the strictest decides, and rejected requests charge no other check', async () => {
    const fixed: Check = { name: 'f30', limit: { algorithm: 'fixed-window', limit: 30, windowMs: 3_600_000, penaltyMs: 0 }, cost: 1 };
    const { sliding, bucket } = exactnessChecks;
    for (let i = 0; i < 3; i++) {
      const clientKey = key('exact-multi');
      const out = await burst(s.stores(), clientKey, [sliding, fixed, bucket], 200);
      assert.deepEqual({ allowed: out.allowed, limited: out.limited }, { allowed: 30, limited: 170 });
      assert.deepEqual(out.remaining(1), countdown(30));
      assert.deepEqual(
        out.remaining(0),
        countdown(30).map((n) => n + 20),
        'the sliding window counted only the 30',
      );
      // Afterwards the others hold exactly what the 30 allowed requests took.
      const probe = await store().decide(clientKey, [sliding, bucket]);
      assert.deepEqual(probe.decisions.map(summary), ['allowed:19', 'allowed:19']);
    }
  });

  test('every key of a client’s policies has an expiry after its decisions (a block included)', async () => {
    const clientKey = key('expiries');
    const checks: Check[] = [
      { name: 'default', limit: { algorithm: 'fixed-window', limit: 1, windowMs: 60_000, penaltyMs: 40_000 }, cost: 1 },
      { name: 'fw', limit: { algorithm: 'fixed-window', limit: 5, windowMs: 60_000, penaltyMs: 0 }, cost: 1 },
      { name: 'sw', limit: { algorithm: 'sliding-window', limit: 5, windowMs: 60_000 }, cost: 1 },
      { name: 'tb', limit: { algorithm: 'token-bucket', limit: 5, refillPerSecond: 1 }, cost: 1 },
      { name: 'shadow', limit: { algorithm: 'fixed-window', limit: 5, windowMs: 60_000, penaltyMs: 0 }, cost: 1, shadow: true },
    ];
    assert.deepEqual((await store().decide(clientKey, checks)).decisions.map(summary), [
      'allowed:0',
      'allowed:4',
      'allowed:4',
      'allowed:4',
      'allowed:4',
    ]);
    assert.deepEqual((await store().decide(clientKey, checks)).decisions.map(summary), [
      'limited',
      'allowed:3',
      'allowed:3',
      'allowed:3',
      'allowed:3',
    ]);
    const keys = clientKeys(s.prefix, clientKey, checks);
    const ttls = await Promise.all(keys.map((k) => s.pttl(k)));
    const base = `${s.prefix}{${clientKey}}`;
    const absent = keys.filter((_, i) => ttls[i] === -2);
    // The blocked policy's counter is dropped with its block; the other fixed windows were never blocked.
    assert.deepEqual(absent, [`${base}:count`, `${base}:fw:block`, `${base}:shadow:block`]);
    keys.forEach((k, i) => {
      if (ttls[i] !== -2) assert.ok(ttls[i]! > 0, `${k}: PTTL ${ttls[i]}`);
    });
  });

  test('after all of the above, no key under the prefix is without an expiry', async () => {
    const keys = await s.keys();
    assert.ok(keys.length > 0);
    const ttls = await Promise.all(keys.map((k) => s.pttl(k)));
    const lasting = keys.filter((_, i) => ttls[i] === -1);
    assert.deepEqual(lasting, []);
  });
}
