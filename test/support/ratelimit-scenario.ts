/**
 * The rate-limit scenario of docs/architecture.md, run against any implementation: the pure policy with an
 * injected clock, MemoryStore, the Redis script over TCP and over REST (real time, short policy).
 *
 * Times are checked against bounds measured around each request (when it was sent and when the
 * answer came), so a slow or loaded machine cannot make a correct store fail; with an injected
 * clock the bounds collapse and the checks are exact.
 */
import assert from 'node:assert/strict';
import type { Decision, RateLimitPolicy } from '../../src/ratelimit/policy.js';

export interface ScenarioTarget {
  readonly policy: RateLimitPolicy;
  /** One request of the scenario's client. */
  decide(): Promise<Decision>;
  /** The clock (ms): the injected one, or a real one. */
  now(): number;
  /** Moves the clock on: an injected clock counts, a real one sleeps. */
  sleep(ms: number): Promise<void>;
  /** Rounding slack in ms (Redis TTLs are whole ms); default 0. */
  readonly slackMs?: number;
}

interface Timed {
  readonly decision: Decision;
  readonly start: number;
  readonly end: number;
}

/**
 * Requests 1..limit pass with remaining limit-1..0; the next is `limited` with the whole
 * penalty; requests during the block are `blocked` with decreasing retryAfter (never extended);
 * after the block a fresh window starts; a window that ends resets the count.
 */
export async function runPolicyScenario(target: ScenarioTarget): Promise<void> {
  const { policy } = target;
  const slack = target.slackMs ?? 0;
  const request = async (): Promise<Timed> => {
    const start = target.now();
    const decision = await target.decide();
    return { decision, start, end: target.now() };
  };
  /** `actual` is `total` minus the time since `since` began (only known within its bounds). */
  const remainingOf = (actual: number, total: number, since: Timed, at: Timed, what: string): void => {
    const low = total - (at.end - since.start) - slack;
    const high = total - (at.start - since.end) + slack;
    assert.ok(actual >= low && actual <= high, `${what}: ${actual} not within [${low}, ${high}]`);
  };
  const sleepUntil = async (instant: number): Promise<void> => {
    const ms = Math.ceil(instant - target.now());
    if (ms > 0) await target.sleep(ms);
  };

  // Requests 1..limit are allowed, counting down; the first starts the window.
  const first = await request();
  assert.deepEqual(first.decision, { ...first.decision, allowed: true, remaining: policy.limit - 1, resetMs: policy.windowMs });
  for (let i = 2; i <= policy.limit; i++) {
    const r = await request();
    assert.ok(r.decision.allowed, `request ${i} should be allowed`);
    assert.equal(r.decision.remaining, policy.limit - i, `remaining after request ${i}`);
    remainingOf(r.decision.resetMs, policy.windowMs, first, r, `resetMs of request ${i}`);
  }

  // The next one starts the block, for the whole penalty.
  const limited = await request();
  assert.deepEqual(limited.decision, { ...limited.decision, allowed: false, reason: 'limited', retryAfterMs: policy.penaltyMs });

  // During the block: rejected as blocked, with the block's remaining time; not extended.
  const quarter = Math.floor(policy.penaltyMs / 4);
  await target.sleep(quarter);
  const blocked1 = await request();
  assert.ok(!blocked1.decision.allowed && blocked1.decision.reason === 'blocked', JSON.stringify(blocked1.decision));
  remainingOf(blocked1.decision.retryAfterMs, policy.penaltyMs, limited, blocked1, 'retryAfter a quarter into the block');
  await target.sleep(quarter);
  const blocked2 = await request();
  assert.ok(!blocked2.decision.allowed && blocked2.decision.reason === 'blocked', JSON.stringify(blocked2.decision));
  remainingOf(blocked2.decision.retryAfterMs, policy.penaltyMs, limited, blocked2, 'retryAfter half-way through the block');
  assert.ok(blocked2.decision.retryAfterMs < blocked1.decision.retryAfterMs, 'retryAfter counts down');

  // After the block: a fresh window.
  await sleepUntil(limited.end + policy.penaltyMs + slack + 1);
  const fresh = await request();
  assert.deepEqual(fresh.decision, { ...fresh.decision, allowed: true, remaining: policy.limit - 1, resetMs: policy.windowMs });

  // Counting in that window, then letting it end: the count starts again.
  for (let i = 2; i <= 5; i++) {
    const r = await request();
    assert.ok(r.decision.allowed);
    assert.equal(r.decision.remaining, policy.limit - i);
  }
  await sleepUntil(fresh.end + policy.windowMs + slack + 1);
  const afterWindow = await request();
  assert.deepEqual(afterWindow.decision, {
    ...afterWindow.decision,
    allowed: true,
    remaining: policy.limit - 1,
    resetMs: policy.windowMs,
  });
}

/** A real clock for `runPolicyScenario`. */
export const realClock = {
  now: (): number => performance.now(),
  sleep: (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms)),
  slackMs: 2,
};
