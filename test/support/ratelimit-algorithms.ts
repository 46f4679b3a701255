/**
 * Scenarios for each algorithm and for several policies of one key, run against every store (the
 * in-memory one with an injected clock, Redis, Redis Cluster and Upstash REST with the real one),
 * so that their semantics cannot drift. The sibling of ratelimit-scenario.ts (the seed's fixed
 * window with a penalty).
 *
 * Like it, times are checked against bounds measured around each request: the decision was taken
 * at some instant between the request's `start` and `end`. The real clock is `Date.now()`, the
 * same wall clock Redis's `TIME` and key expiries read on this machine. With an injected clock
 * the bounds collapse and every check is exact.
 */
import assert from 'node:assert/strict';
import type { Check, Decision, Limit, Refund } from '../../src/ratelimit/policy.js';
import type { RateLimitStore } from '../../src/ratelimit/store.js';

export interface AlgorithmTarget {
  /** One request of `clientKey` under `checks`: a decision per check, in order. */
  decide(clientKey: string, checks: readonly Check[]): Promise<readonly (Decision | undefined)[]>;
  /** Gives back part of what requests of `clientKey` were charged. */
  refund(clientKey: string, refunds: readonly Refund[]): Promise<void>;
  /** Epoch ms: the injected clock, or `Date.now()`. */
  now(): number;
  /** Moves the clock on: an injected clock counts, a real one sleeps. */
  sleep(ms: number): Promise<void>;
  /** Whether the clock is injected: then the checks are exact. */
  readonly exact: boolean;
  /** Rounding slack in ms; default 0. */
  readonly slackMs?: number;
}

/** The target for a store: an injected clock (`clock`) or the real one. */
export function storeTarget(store: RateLimitStore, clock?: { now(): number; advance(ms: number): void }): AlgorithmTarget {
  const decide = async (clientKey: string, checks: readonly Check[]) => (await store.decide(clientKey, checks)).decisions;
  const refund = async (clientKey: string, refunds: readonly Refund[]): Promise<void> => {
    assert.ok(store.refund, `the ${store.kind} store refunds`);
    await store.refund(clientKey, refunds);
  };
  if (clock) return { decide, refund, now: () => clock.now(), sleep: async (ms) => clock.advance(ms), exact: true };
  return {
    decide,
    refund,
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    exact: false,
    slackMs: 1,
  };
}

/** An injected clock, starting at an instant that is not aligned to any window. */
export function injectedClock(start = 1_700_000_000_123): { now(): number; advance(ms: number): void } {
  let clock = start;
  return { now: () => clock, advance: (ms) => void (clock += ms) };
}

interface Timed {
  readonly decisions: readonly Decision[];
  readonly start: number;
  readonly end: number;
}

function timer(target: AlgorithmTarget, clientKey: string, checks: readonly Check[]): () => Promise<Timed> {
  return async () => {
    const start = target.now();
    const decisions = await target.decide(clientKey, checks);
    const end = target.now();
    assert.equal(decisions.length, checks.length, 'one decision per check');
    for (const [i, d] of decisions.entries()) assert.ok(d, `check ${i} was decided`);
    return { decisions: decisions as Decision[], start, end };
  };
}

/** `actual` within [low, high] (each widened by the slack), with a message that says what it is. */
function within(actual: number, low: number, high: number, slack: number, what: string): void {
  assert.ok(actual >= low - slack && actual <= high + slack, `${what}: ${actual} not within [${low - slack}, ${high + slack}]`);
}

function allowed(d: Decision, what: string): Extract<Decision, { allowed: true }> {
  assert.ok(d.allowed, `${what}: expected allowed, got ${JSON.stringify(d)}`);
  return d;
}

function rejected(d: Decision, reason: 'limited' | 'blocked', what: string): Extract<Decision, { allowed: false }> {
  assert.ok(!d.allowed && d.reason === reason, `${what}: expected ${reason}, got ${JSON.stringify(d)}`);
  return d;
}

const fresh = (() => {
  let n = 0;
  return (name: string): string => `${name}-${Date.now().toString(36)}-${n++}`;
})();

/**
 * Refunds, for each algorithm with a capacity of 1000 in cost: an operation charged 500 that gets
 * 375 back leaves the next one of 500 with 375; a refund sent as if from a window that has ended
 * (its `resetMs` shorter than what is left of the open one) changes nothing; a refund larger than
 * what was charged empties the count (a new window starts) or fills the bucket, never beyond the
 * capacity; a refund to a full bucket or a key never charged changes nothing. The windows are
 * long (a minute, a day) so that the real clock never crosses one in the middle.
 */
export async function refundScenario(target: AlgorithmTarget): Promise<void> {
  const limits: Limit[] = [
    { algorithm: 'fixed-window', limit: 1000, windowMs: 60_000, penaltyMs: 0 },
    { algorithm: 'sliding-window', limit: 1000, windowMs: 86_400_000 },
    { algorithm: 'token-bucket', limit: 1000, refillPerSecond: 0.01 },
  ];
  for (const limit of limits) {
    const what = limit.algorithm!;
    const key = fresh(`refund-${what}`);
    const check = (cost: number): Check => ({ name: 'points', limit, cost });
    const charge = async (cost: number): Promise<Extract<Decision, { allowed: true }>> =>
      allowed((await target.decide(key, [check(cost)]))[0]!, `${what}: a charge of ${cost}`);
    let chargedAt = 0;
    const refund = (amount: number, resetMs: number): Promise<void> =>
      target.refund(key, [{ check: check(amount), amount, resetMs, elapsedMs: target.now() - chargedAt }]);

    chargedAt = target.now();
    const first = await charge(500);
    assert.equal(first.remaining, 500, what);
    await refund(375, first.resetMs);
    assert.equal((await charge(500)).remaining, 375, `${what}: 375 given back`);
    if (limit.algorithm !== 'token-bucket') {
      await refund(100, 1);
      assert.equal((await charge(1)).remaining, 374, `${what}: a refund for a window that has ended changes nothing`);
    } else {
      await charge(1);
    }
    await refund(5000, first.resetMs);
    assert.equal((await charge(1)).remaining, 999, `${what}: never beyond the capacity`);

    const untouched = fresh(`refund-none-${what}`);
    await target.refund(untouched, [{ check: check(100), amount: 100, resetMs: 60_000, elapsedMs: 0 }]);
    const d = allowed((await target.decide(untouched, [check(1)]))[0]!, `${what}: a key never charged`);
    assert.equal(d.remaining, 999, `${what}: a refund to a key never charged changes nothing`);
  }
}

/**
 * Fixed window without a penalty (limit 5, window 1 s): requests 1–5 pass counting down; the
 * 6th and later are `limited` (never `blocked`) with the window's remaining time, and are not
 * counted; after that time a new window starts with the whole quota.
 */
export async function fixedWindowWithoutPenaltyScenario(target: AlgorithmTarget): Promise<void> {
  const limit: Limit = { algorithm: 'fixed-window', limit: 5, windowMs: 1000, penaltyMs: 0 };
  const request = timer(target, fresh('fixed'), [{ name: 'fw', limit, cost: 1 }]);
  const slack = target.slackMs ?? 0;
  const windowLeft = (first: Timed, at: Timed): [number, number] => [
    limit.windowMs - (at.end - first.start),
    limit.windowMs - (at.start - first.end),
  ];

  const first = await request();
  assert.deepEqual(first.decisions[0], { allowed: true, remaining: 4, resetMs: 1000 }, 'the first request starts the window');
  for (let i = 2; i <= 5; i++) {
    const r = await request();
    const d = allowed(r.decisions[0]!, `request ${i}`);
    assert.equal(d.remaining, 5 - i, `remaining after request ${i}`);
    within(d.resetMs, ...windowLeft(first, r), slack, `resetMs of request ${i}`);
  }
  const over = await request();
  const limited = rejected(over.decisions[0]!, 'limited', 'request 6');
  within(limited.retryAfterMs, ...windowLeft(first, over), slack, 'retryAfterMs: the rest of the window');
  const again = await request();
  const still = rejected(again.decisions[0]!, 'limited', 'request 7: limited again, not blocked (no penalty)');
  assert.ok(still.retryAfterMs <= limited.retryAfterMs, 'the window is not extended');
  if (target.exact) {
    // One millisecond before the window ends: still limited.
    await target.sleep(still.retryAfterMs - 1);
    rejected((await request()).decisions[0]!, 'limited', 'a millisecond before retryAfterMs');
    await target.sleep(1);
  } else {
    await target.sleep(still.retryAfterMs);
  }
  // Retry-After is when a request passes again: a new window, the rejected requests not counted.
  const next = await request();
  assert.deepEqual(next.decisions[0], { allowed: true, remaining: 4, resetMs: 1000 }, 'after retryAfterMs: a new window');
}

/**
 * Sliding window (limit 10, window 1 s, windows aligned to the epoch): the window is filled
 * just after a boundary, counting down; the 11th waits for the next window plus the time the
 * previous window's share takes to leave room; in the next window the previous count weighs by
 * how much of it the sliding window still overlaps; after two quiet windows the count is gone.
 */
export async function slidingWindowScenario(target: AlgorithmTarget): Promise<void> {
  const L = 10;
  const w = 1000;
  const limit: Limit = { algorithm: 'sliding-window', limit: L, windowMs: w };
  const request = timer(target, fresh('sliding'), [{ name: 'sw', limit, cost: 1 }]);
  const slack = target.slackMs ?? 0;
  const sleepUntil = async (instant: number): Promise<void> => {
    const ms = Math.ceil(instant - target.now());
    if (ms > 0) await target.sleep(ms);
  };
  /** The window a request was decided in, asserting it could only be one. */
  const windowOf = (r: Timed): number => {
    const index = Math.floor(r.start / w);
    assert.equal(Math.floor(r.end / w), index, `a request straddled a window boundary (${r.start}–${r.end}): the machine stalled`);
    return index;
  };
  /** Bounds of a quantity that falls as the window's elapsed time grows: [at the latest, at the earliest]. */
  const falling = (r: Timed, f: (elapsed: number) => number): [number, number] => {
    const base = windowOf(r) * w;
    return [f(r.end - base), f(r.start - base)];
  };
  const rising = (r: Timed, f: (elapsed: number) => number): [number, number] => {
    const base = windowOf(r) * w;
    return [f(r.start - base), f(r.end - base)];
  };

  // Fill a window from just after its start: nothing from before weighs on it.
  await sleepUntil((Math.floor(target.now() / w) + 1) * w + (target.exact ? 0 : 50));
  const first = await request();
  const W = windowOf(first);
  for (let i = 1; i <= L; i++) {
    const r = i === 1 ? first : await request();
    assert.equal(windowOf(r), W, `request ${i} in the first window`);
    const d = allowed(r.decisions[0]!, `request ${i}`);
    assert.equal(d.remaining, L - i, `remaining after request ${i}`);
    within(d.resetMs, ...falling(r, (e) => w - e), slack, `resetMs of request ${i}: the window's end`);
  }
  // Over the limit: not before the next window, where this window's 10 weigh 10 × (w − e)/w
  // and leave room for one at e = w/10.
  const over = await request();
  assert.equal(windowOf(over), W);
  const limited = rejected(over.decisions[0]!, 'limited', 'request 11');
  within(limited.retryAfterMs, ...falling(over, (e) => w - e + w / L), slack, 'retryAfterMs: the next window plus w/10');
  if (target.exact) assert.equal(limited.retryAfterMs, w - (over.start - W * w) + w / L);

  if (target.exact) {
    await target.sleep(limited.retryAfterMs - 1);
    rejected((await request()).decisions[0]!, 'limited', 'a millisecond before retryAfterMs');
    await target.sleep(1);
  } else {
    await target.sleep(limited.retryAfterMs);
  }
  // Retry-After is when a request passes: in the next window, the previous 10 weighted.
  const passing = await request();
  assert.equal(windowOf(passing), W + 1, 'the retry lands in the next window');
  const p = allowed(passing.decisions[0]!, 'after retryAfterMs');
  within(p.remaining, ...rising(passing, (e) => Math.floor(L - (L * (w - e)) / w - 1)), 0, 'remaining: limit − 10 × (w − e)/w − 1');
  if (target.exact) assert.deepEqual(p, { allowed: true, remaining: 0, resetMs: w - w / L });

  // Half-way into that window the previous 10 weigh 5: with the 1 counted, 4 more pass.
  await sleepUntil((W + 1) * w + w / 2);
  let current = 1;
  for (;;) {
    const r = await request();
    assert.equal(windowOf(r), W + 1);
    const d = r.decisions[0]!;
    const estimate = (e: number): number => (L * (w - e)) / w + current;
    if (!d.allowed) {
      // The previous window's share decays until it leaves room for one more.
      within(
        d.retryAfterMs,
        ...falling(r, (e) => Math.ceil(w - e - ((L - current - 1) * w) / L)),
        slack,
        'retryAfterMs in the sliding part',
      );
      if (target.exact) {
        assert.equal(current, 5, 'four more passed half-way through');
        assert.equal(d.retryAfterMs, w / L);
      } else {
        assert.ok(current >= 5, `at least four more passed half-way through (${current - 1})`);
      }
      await target.sleep(d.retryAfterMs);
      const after = await request();
      allowed(after.decisions[0]!, 'after the sliding retryAfterMs');
      current++;
      break;
    }
    current++;
    within(d.remaining, ...rising(r, (e) => Math.floor(L - estimate(e))), 0, `remaining with ${current} counted in this window`);
    assert.ok(current <= L, 'the previous window weighs on this one');
  }

  // Two windows without requests: nothing weighs any more.
  await sleepUntil((W + 3) * w + (target.exact ? 0 : 20));
  const later = await request();
  assert.deepEqual(later.decisions[0], { ...later.decisions[0], allowed: true, remaining: L - 1 }, 'two windows later: the whole quota');
}

/**
 * Token bucket (capacity 10, 20 tokens/s). The tokens are tracked as an interval from the measured
 * bounds of each request (refill × elapsed, capped at the capacity): every remaining count,
 * reset and retry-after falls inside it. A fresh bucket is full; a burst takes it down; a
 * rejection's retryAfterMs is when one token is back; time refills it; it never holds more than
 * its capacity.
 */
export async function tokenBucketScenario(target: AlgorithmTarget): Promise<void> {
  const C = 10;
  const rate = 20;
  const limit: Limit = { algorithm: 'token-bucket', limit: C, refillPerSecond: rate };
  const request = timer(target, fresh('bucket'), [{ name: 'tb', limit, cost: 1 }]);
  const slack = target.slackMs ?? 0;
  /** The bucket after the last decision: tokens in [lo, hi], decided between `start` and `end`. */
  let bucket: { lo: number; hi: number; start: number; end: number } | undefined;
  /** Tokens available to request `r` (before it takes one), from the previous decision's bounds. */
  const available = (r: Timed): [number, number] => {
    if (!bucket) return [C, C];
    const refill = (ms: number): number => (Math.max(0, ms) * rate) / 1000;
    return [Math.min(C, bucket.lo + refill(r.start - bucket.end)), Math.min(C, bucket.hi + refill(r.end - bucket.start))];
  };
  const fillMs = (tokens: number): number => Math.ceil(((C - tokens) * 1000) / rate);
  const step = async (what: string): Promise<Decision> => {
    const r = await request();
    // With a real clock, a hair of tolerance: the bounds add refills in another order than the store.
    const eps = target.exact ? 0 : 1e-9;
    const [lo, hi] = ((b) => [b[0] - eps, b[1] + eps])(available(r));
    const d = r.decisions[0]!;
    if (d.allowed) {
      assert.ok(hi >= 1, `${what}: allowed with at most ${hi} tokens`);
      within(d.remaining, Math.floor(Math.max(lo, 1) - 1), Math.floor(hi - 1), 0, `${what}: remaining`);
      within(d.resetMs, fillMs(hi - 1), fillMs(Math.max(lo, 1) - 1), slack, `${what}: resetMs, the time to fill up`);
      bucket = { lo: Math.max(lo, 1) - 1, hi: hi - 1, start: r.start, end: r.end };
    } else {
      assert.equal(d.reason, 'limited', `${what}: a bucket has no block`);
      assert.ok(lo < 1, `${what}: rejected with at least ${lo} tokens`);
      within(
        d.retryAfterMs,
        Math.max(1, Math.ceil(((1 - Math.min(hi, 1)) * 1000) / rate)),
        Math.ceil(((1 - lo) * 1000) / rate),
        slack,
        `${what}: retryAfterMs`,
      );
      // A rejection takes nothing; the bucket's bounds still describe it.
    }
    return d;
  };

  // A bucket never seen is full.
  const first = await step('request 1');
  assert.deepEqual(first, { allowed: true, remaining: C - 1, resetMs: 50 }, 'a new bucket is full');
  // A burst takes it down, one token a request (what refills during the burst is in the bounds).
  let passed = 1;
  let rejection: Decision | undefined;
  for (let i = 2; i <= 5 * C && !rejection; i++) {
    const d = await step(`burst request ${i}`);
    if (d.allowed) passed++;
    else rejection = d;
  }
  assert.ok(rejection && !rejection.allowed, 'the burst ran the bucket dry');
  if (target.exact) {
    assert.equal(passed, C, 'exactly the capacity passes in a burst');
    assert.deepEqual(rejection, { allowed: false, reason: 'limited', retryAfterMs: 50 }, 'one token takes 50 ms at 20/s');
    await target.sleep(49);
    assert.equal((await step('a millisecond before retryAfterMs')).allowed, false);
    await target.sleep(1);
  } else {
    await target.sleep(rejection.retryAfterMs);
  }
  // Retry-After is when one token is back.
  const retried = await step('after retryAfterMs');
  assert.ok(retried.allowed, 'allowed after retryAfterMs');
  if (target.exact) assert.deepEqual(retried, { allowed: true, remaining: 0, resetMs: 500 });

  // Refill: 200 ms give 4 tokens.
  await target.sleep(200);
  const refilled = await step('after 200 ms');
  assert.ok(refilled.allowed);
  if (target.exact) assert.deepEqual(refilled, { allowed: true, remaining: 3, resetMs: 350 });

  // Cap: well after it is full (0.5 s from empty), it holds the capacity, no more.
  await target.sleep(800);
  const capped = await step('long after it filled up');
  assert.deepEqual(capped, { allowed: true, remaining: C - 1, resetMs: 50 }, 'a bucket holds its capacity, no more');
}

/** A decision in short: `allowed:<remaining>`, `limited` or `blocked` (times vary with a real clock). */
export function summary(d: Decision | undefined): string {
  if (!d) return 'undecided';
  return d.allowed ? `allowed:${d.remaining}` : d.reason;
}

const hour = 3_600_000;
const day = 86_400_000;
/** Figures no real-clock test gets near: windows of an hour or a day, a bucket that refills one token in 1000 s. */
const slowBucket = 0.001;

/**
 * Several checks of one key in one call, with windows and refills too slow to move during the
 * test: the decisions come back in the checks' order; a rejection by an enforced check charges
 * none of the others (their counts are unchanged afterwards); shadow checks are charged and never
 * reject the request.
 */
export async function multiPolicyScenario(target: AlgorithmTarget): Promise<void> {
  const a: Check = { name: 'a', limit: { algorithm: 'fixed-window', limit: 3, windowMs: hour, penaltyMs: 0 }, cost: 1 };
  const b: Check = { name: 'b', limit: { algorithm: 'sliding-window', limit: 5, windowMs: day }, cost: 1 };
  const c: Check = { name: 'c', limit: { algorithm: 'token-bucket', limit: 4, refillPerSecond: slowBucket }, cost: 1 };
  const s: Check = { name: 's', limit: { algorithm: 'fixed-window', limit: 1, windowMs: hour, penaltyMs: hour }, cost: 1, shadow: true };
  const key = fresh('multi');
  const call = async (checks: readonly Check[]): Promise<string[]> => (await target.decide(key, checks)).map(summary);

  assert.deepEqual(await call([a, b, c, s]), ['allowed:2', 'allowed:4', 'allowed:3', 'allowed:0'], 'request 1, in the checks’ order');
  // The shadow check goes over its limit (and starts its block): the request is not rejected, so
  // every check is charged.
  assert.deepEqual(await call([a, b, c, s]), ['allowed:1', 'allowed:3', 'allowed:2', 'limited'], 'request 2: the shadow check rejects');
  assert.deepEqual(await call([a, b, c, s]), ['allowed:0', 'allowed:2', 'allowed:1', 'blocked'], 'request 3: the shadow block holds');
  // The enforced fixed window rejects: the sliding window and the bucket would allow, and are not charged.
  assert.deepEqual(await call([a, b, c, s]), ['limited', 'allowed:1', 'allowed:0', 'blocked'], 'request 4: rejected by a');
  assert.deepEqual(await call([a, b, c, s]), ['limited', 'allowed:1', 'allowed:0', 'blocked'], 'request 5: nothing was charged by 4');
  // The same key's checks in another order and without `a`: order follows the call.
  assert.deepEqual(await call([c, b]), ['allowed:0', 'allowed:1'], 'without a: allowed, and charged');
  assert.deepEqual(await call([b, c]), ['allowed:0', 'limited'], 'the bucket is empty: rejected by c');
  assert.deepEqual(await call([b]), ['allowed:0'], 'the sliding window was not charged by the rejected request');
  assert.deepEqual(await call([b]), ['limited']);
}

/**
 * A fixed window with a penalty that rejects starts its block though the request is rejected and
 * nothing is counted; a shadow check is not charged for a request an enforced check rejects.
 */
export async function penaltyInMultiPolicyScenario(target: AlgorithmTarget): Promise<void> {
  const p: Check = { name: 'p', limit: { algorithm: 'fixed-window', limit: 2, windowMs: hour, penaltyMs: hour }, cost: 1 };
  const q: Check = { name: 'q', limit: { algorithm: 'sliding-window', limit: 10, windowMs: day }, cost: 1 };
  const r: Check = { name: 'r', limit: { algorithm: 'token-bucket', limit: 10, refillPerSecond: slowBucket }, cost: 1, shadow: true };
  const f: Check = { name: 'f', limit: { algorithm: 'fixed-window', limit: 10, windowMs: hour, penaltyMs: 0 }, cost: 1 };
  const key = fresh('penalty');
  const call = async (checks: readonly Check[]): Promise<readonly (Decision | undefined)[]> => target.decide(key, checks);

  assert.deepEqual((await call([p, q, r, f])).map(summary), ['allowed:1', 'allowed:9', 'allowed:9', 'allowed:9']);
  assert.deepEqual((await call([p, q, r, f])).map(summary), ['allowed:0', 'allowed:8', 'allowed:8', 'allowed:8']);
  const over = await call([p, q, r, f]);
  assert.deepEqual(over.map(summary), ['limited', 'allowed:7', 'allowed:7', 'allowed:7'], 'p rejects');
  assert.deepEqual(over[0], { allowed: false, reason: 'limited', retryAfterMs: hour }, 'p starts its whole penalty');
  const during = await call([p, q, r, f]);
  assert.deepEqual(
    during.map(summary),
    ['blocked', 'allowed:7', 'allowed:7', 'allowed:7'],
    'p’s block started; q, r (shadow) and f were not charged',
  );
  const block = during[0]!;
  assert.ok(
    !block.allowed && block.retryAfterMs <= hour && block.retryAfterMs > hour - 60_000,
    `the block's time: ${JSON.stringify(block)}`,
  );
  // Without p, the others count from where they were.
  assert.deepEqual((await call([q, r, f])).map(summary), ['allowed:7', 'allowed:7', 'allowed:7']);
}

/** What one burst of concurrent decisions gave: allowed, limited and blocked, and the remaining counts handed out. */
export interface BurstOutcome {
  readonly allowed: number;
  readonly limited: number;
  readonly blocked: number;
  /** Each allowed request's remaining count (of check `index`), sorted. */
  remaining(index: number): number[];
  /** Wall time of the whole burst, ms. */
  readonly elapsedMs: number;
}

/**
 * `total` concurrent requests of `clientKey` under `checks`, spread round-robin over `stores`
 * (one connection each, like that many gateway instances).
 */
export async function burst(
  stores: readonly RateLimitStore[],
  clientKey: string,
  checks: readonly Check[],
  total: number,
): Promise<BurstOutcome> {
  const start = Date.now();
  const verdicts = await Promise.all(Array.from({ length: total }, (_, i) => stores[i % stores.length]!.decide(clientKey, checks)));
  const elapsedMs = Date.now() - start;
  const outcomes = verdicts.map((v) => {
    const decisions = v.decisions as Decision[];
    assert.equal(decisions.length, checks.length);
    const rejection = decisions.find((d, i) => !d.allowed && !checks[i]!.shadow);
    return { decisions, rejection };
  });
  const allowedOnes = outcomes.filter((o) => !o.rejection);
  return {
    allowed: allowedOnes.length,
    limited: outcomes.filter((o) => o.rejection && !o.rejection.allowed && o.rejection.reason === 'limited').length,
    blocked: outcomes.filter((o) => o.rejection && !o.rejection.allowed && o.rejection.reason === 'blocked').length,
    remaining: (index) => allowedOnes.map((o) => (o.decisions[index] as { remaining: number }).remaining).sort((x, y) => x - y),
    elapsedMs,
  };
}

/** 0, 1, …, n − 1: each remaining count handed out once. */
export const countdown = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Checks for the exactness tests: limits of 50, windows and refills that do not move during a burst. */
export const exactnessChecks = {
  fixedWithoutPenalty: { name: 'fixed', limit: { algorithm: 'fixed-window', limit: 50, windowMs: hour, penaltyMs: 0 }, cost: 1 },
  fixedWithPenalty: { name: 'penalty', limit: { algorithm: 'fixed-window', limit: 50, windowMs: hour, penaltyMs: hour }, cost: 1 },
  sliding: { name: 'sliding', limit: { algorithm: 'sliding-window', limit: 50, windowMs: day }, cost: 1 },
  bucket: { name: 'bucket', limit: { algorithm: 'token-bucket', limit: 50, refillPerSecond: slowBucket }, cost: 1 },
} satisfies Record<string, Check>;
