// The one rate-limit result and what is read off it: the metric's label and the log line's fields.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultPolicy, type Decision } from '../../src/ratelimit/policy.js';
import {
  calledStore,
  decisionLabel,
  decisionLabels,
  disabled,
  exempt,
  failedOpen,
  rateLimitLogFields,
  type AppliedPolicy,
  type DecisionSource,
  type FailOpenCause,
  type RateLimitDecided,
  type RateLimitResult,
} from '../../src/ratelimit/result.js';

const policy: AppliedPolicy = { name: 'default', key: 'ip', limit: defaultPolicy, tier: 'default', shadow: false };

/** The result of one policy's decision. */
function one(decision: Decision, source: DecisionSource, cause?: FailOpenCause): RateLimitDecided {
  const outcome = { policy, decision, source, ...(cause && { cause }) };
  return { ...decision, source, ...(cause && { cause }), policy, outcomes: [outcome] };
}
const allowed = { allowed: true, remaining: 3, resetMs: 1000 } as const;
const limited = { allowed: false, reason: 'limited', retryAfterMs: 40_000 } as const;
const blocked = { allowed: false, reason: 'blocked', retryAfterMs: 9000 } as const;

/** Every kind of result, with the label, `rateLimit` field and store call it must give. */
const table: [RateLimitResult, string | undefined, string, boolean][] = [
  [one(allowed, 'store'), 'allowed', 'allowed', true],
  [one(limited, 'store'), 'limited', 'limited', true],
  [one(blocked, 'store'), 'blocked', 'blocked', true],
  [one(blocked, 'local-cache'), 'blocked_local_cache', 'blocked', false],
  [one(allowed, 'fallback'), 'fallback_allowed', 'allowed', false],
  [one(limited, 'fallback'), 'fallback_limited', 'limited', false],
  [one(failedOpen(defaultPolicy), 'failed-open', 'timeout'), 'failed_open', 'failed-open', true],
  [disabled, undefined, 'disabled', false],
  [exempt, undefined, 'exempt', false],
];

describe('the rate-limit result', () => {
  test('each result has one label, one rateLimit field and says whether the store was called', () => {
    for (const [result, label, field, called] of table) {
      assert.equal(decisionLabel(result), label, JSON.stringify(result));
      assert.equal(rateLimitLogFields(result, 1)['rateLimit'], field, JSON.stringify(result));
      assert.equal(calledStore(result), called, JSON.stringify(result));
    }
    const labels = new Set(table.map(([, label]) => label).filter((l) => l !== undefined));
    assert.deepEqual([...labels].sort(), [...decisionLabels].sort(), 'every metric label is reachable, and no other');
  });

  test('failed open: the policy’s full window, with the cause on the log line', () => {
    const result = one(failedOpen(defaultPolicy), 'failed-open', 'aborted');
    assert.deepEqual(failedOpen(defaultPolicy), { allowed: true, remaining: 50, resetMs: 60_000 });
    assert.deepEqual(rateLimitLogFields(result, 0.456), {
      rateLimit: 'failed-open',
      rateLimitSource: 'failed-open',
      rateLimitCause: 'aborted',
      rateLimitDecision: 'failed_open',
      rateLimitMs: 0.46,
      rateLimitPolicy: 'default',
    });
  });

  test('a store decision carries no rateLimitSource (store is the usual case); a skipped one only rateLimit', () => {
    assert.deepEqual(rateLimitLogFields(one(allowed, 'store'), 0.1), {
      rateLimit: 'allowed',
      rateLimitDecision: 'allowed',
      rateLimitMs: 0.1,
      rateLimitPolicy: 'default',
    });
    assert.deepEqual(rateLimitLogFields(exempt, 0), { rateLimit: 'exempt' });
  });
});
