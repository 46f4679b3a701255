import { defaultTier } from '../identity/identity.js';
import { windowMsOf, type Decision, type Limit } from './policy.js';

/**
 * Why the rate limiter answered a request as it did: the one list that the headers, the request's
 * log line and the metrics read.
 *
 * | source | meaning |
 * |---|---|
 * | `store` | the configured store decided (the shared one, or the in-memory one when it is the configured store) |
 * | `local-cache` | this instance already knew the client was blocked: answered without a store call |
 * | `fallback` | the shared store is failing (its breaker is open); the per-instance limiter decided |
 * | `failed-open` | the store failed or missed its deadline; the request was let through (`cause` says why) |
 * | `disabled` | rate limiting is off (development, or `RATE_LIMIT_ENABLED=false`) |
 * | `exempt` | the path is never rate limited (health, readiness, `/metrics`) |
 */
export const rateLimitSources = ['store', 'local-cache', 'fallback', 'failed-open', 'disabled', 'exempt'] as const;
export type RateLimitSource = (typeof rateLimitSources)[number];

/** The sources a store decision can have: everything but the two where no decision was made. */
export type DecisionSource = Exclude<RateLimitSource, 'disabled' | 'exempt'>;

/**
 * Why a request was let through without the store's decision: `timeout` (no reply within the
 * deadline, see deadline.ts), `error` (the store answered with an error or the connection
 * failed), `aborted` (the caller gave up first: not the store's doing).
 */
export type FailOpenCause = 'timeout' | 'error' | 'aborted';

/**
 * One policy as it applies to one request: its figures for the request's tier.
 * (`RATE_LIMIT_POLICIES`; src/ratelimit/policies.ts.)
 */
export interface AppliedPolicy {
  readonly name: string;
  /** What it counts under: the client's address, or its identity. */
  readonly key: 'ip' | 'identity';
  readonly limit: Limit;
  /** The tier whose figures apply: the identity's, if the policy names it, else `default`. */
  readonly tier: string;
  /** `mode: shadow`: decided, counted and logged; never rejects. */
  readonly shadow: boolean;
  /** `requests` (1 per request) or `cost` (the operation's estimated cost); default `requests`. */
  readonly unit?: 'requests' | 'cost';
  /** A cost policy that gives back what an operation was charged beyond its actual cost. */
  readonly refund?: boolean;
  /** The Rate Limiting binding that counts it (`RATE_LIMIT_STORE=cloudflare`), when named. */
  readonly binding?: string;
}

/** What one policy decided for one request. */
export interface PolicyOutcome {
  readonly policy: AppliedPolicy;
  readonly decision: Decision;
  readonly source: DecisionSource;
  readonly cause?: FailOpenCause;
}

/**
 * A request the rate limiter decided: the reported decision — the rejecting enforced policy's
 * (the longest retry-after) on a rejection, else the enforced policy with the smallest remaining
 * share — with its source and policy, and every policy's outcome.
 */
export type RateLimitDecided = Decision & {
  readonly source: DecisionSource;
  /** With `source: 'failed-open'` only: why the store did not decide. */
  readonly cause?: FailOpenCause;
  /** The reported policy: what the `RateLimit` header and a 429 name. */
  readonly policy: AppliedPolicy;
  /** Every policy that was decided, shadow ones included. */
  readonly outcomes: readonly PolicyOutcome[];
};

/** A request the rate limiter did not look at. */
export interface RateLimitSkipped {
  readonly source: 'disabled' | 'exempt';
}

/**
 * One request's rate-limit result, produced once by the lifecycle's rate-limit step
 * (src/lifecycle/steps/rateLimit.ts). Nothing downstream decides anything again: the headers,
 * the log fields (`rateLimitLogFields`) and the metric label (`decisionLabel`) are read off it.
 *
 * @example
 * const result: RateLimitResult = { allowed: true, remaining: 49, resetMs: 60_000, source: 'store', policy };
 * decisionLabel(result) // 'allowed'
 */
export type RateLimitResult = RateLimitDecided | RateLimitSkipped;

export const disabled: RateLimitSkipped = { source: 'disabled' };
export const exempt: RateLimitSkipped = { source: 'exempt' };

/** Whether the rate limiter decided the request (rather than skipping it). */
export function wasDecided(result: RateLimitResult): result is RateLimitDecided {
  return result.source !== 'disabled' && result.source !== 'exempt';
}

/**
 * The decision when the store could not decide: let the request through. The store's count is
 * unknown, so the figures are the policy's (a whole quota).
 */
export function failedOpen(limit: Limit): Decision {
  return { allowed: true, remaining: limit.limit, resetMs: windowMsOf(limit) };
}

/**
 * The outcomes' one reported result: a rejection by an enforced policy (the longest retry-after
 * among them) rejects the request; otherwise the enforced policy with the smallest remaining
 * share (remaining / limit) is reported; with only shadow policies, the first.
 */
export function combineOutcomes(outcomes: readonly PolicyOutcome[]): RateLimitDecided {
  let reported: PolicyOutcome | undefined;
  let share = Number.POSITIVE_INFINITY;
  for (const outcome of outcomes) {
    if (outcome.policy.shadow) continue;
    const d = outcome.decision;
    if (!d.allowed) {
      const best = reported?.decision;
      if (!best || best.allowed || d.retryAfterMs > best.retryAfterMs) reported = outcome;
      share = Number.NEGATIVE_INFINITY;
    } else if (share !== Number.NEGATIVE_INFINITY) {
      const s = d.remaining / outcome.policy.limit.limit;
      if (s < share) {
        share = s;
        reported = outcome;
      }
    }
  }
  reported ??= outcomes[0];
  if (!reported) throw new Error('no rate-limit outcome to report');
  return {
    ...reported.decision,
    source: reported.source,
    ...(reported.cause !== undefined && { cause: reported.cause }),
    policy: reported.policy,
    outcomes,
  };
}

/**
 * The `decision` label of `tollgate_rate_limit_decisions_total` and the log's `rateLimitDecision`:
 *
 * | label | result |
 * |---|---|
 * | `allowed` | `store`, allowed |
 * | `limited` | `store`, rejected: this request went over the limit and started a block |
 * | `blocked` | `store`, rejected: the client was already blocked |
 * | `blocked_local_cache` | `local-cache` |
 * | `failed_open` | `failed-open` |
 * | `fallback_allowed`, `fallback_limited` | `fallback`, allowed or rejected |
 *
 * Undefined for `disabled` and `exempt`.
 */
export type DecisionLabel =
  | 'allowed'
  | 'limited'
  | 'blocked'
  | 'blocked_local_cache'
  | 'failed_open'
  | 'fallback_allowed'
  | 'fallback_limited';

export const decisionLabels: readonly DecisionLabel[] = [
  'allowed',
  'limited',
  'blocked',
  'blocked_local_cache',
  'failed_open',
  'fallback_allowed',
  'fallback_limited',
];

export function decisionLabel(result: RateLimitResult): DecisionLabel | undefined {
  switch (result.source) {
    case 'disabled':
    case 'exempt':
      return undefined;
    case 'failed-open':
      return 'failed_open';
    case 'local-cache':
      return 'blocked_local_cache';
    case 'fallback':
      return result.allowed ? 'fallback_allowed' : 'fallback_limited';
    case 'store':
      return result.allowed ? 'allowed' : result.reason;
  }
}

/**
 * The `decision` label of `tollgate_rate_limit_policy_decisions_total`, one per policy decided:
 * `allowed`, `limited`, `blocked` (in a block already, from the store or this instance's memory
 * of it) or `failed_open`. A shadow policy's `limited` did not reject the request.
 */
export type PolicyDecisionLabel = 'allowed' | 'limited' | 'blocked' | 'failed_open';

export function policyDecisionLabel(outcome: PolicyOutcome): PolicyDecisionLabel {
  if (outcome.source === 'failed-open') return 'failed_open';
  return outcome.decision.allowed ? 'allowed' : outcome.decision.reason;
}

/** Whether reaching the result took a call to the store (whose latency is then worth measuring). */
export function calledStore(result: RateLimitResult): boolean {
  return result.source === 'store' || result.source === 'failed-open';
}

/**
 * The request log line's rate-limit fields:
 *
 * - `rateLimit`: `exempt`, `disabled`, `allowed`, `limited`, `blocked` or `failed-open`;
 * - `rateLimitSource`: the source, when it is not `store` (`local-cache`, `fallback`, `failed-open`);
 * - `rateLimitCause`: with `failed-open`, `timeout`, `error` or `aborted`;
 * - `rateLimitDecision`: the metric's label (`decisionLabel`) and `rateLimitMs`, when decided;
 * - `rateLimitPolicy`: the reported policy (the one a 429 names), and `rateLimitTier` when its
 *   figures are a named tier's;
 * - `rateLimitShadow`: the shadow policies that would have rejected the request, when any.
 */
export function rateLimitLogFields(result: RateLimitResult, rateLimitMs: number): Record<string, unknown> {
  if (!wasDecided(result)) return { rateLimit: result.source };
  const fields: Record<string, unknown> = {
    rateLimit: result.source === 'failed-open' ? 'failed-open' : result.allowed ? 'allowed' : result.reason,
  };
  if (result.source !== 'store') fields['rateLimitSource'] = result.source;
  if (result.cause !== undefined) fields['rateLimitCause'] = result.cause;
  fields['rateLimitDecision'] = decisionLabel(result);
  fields['rateLimitMs'] = Number(rateLimitMs.toFixed(2));
  fields['rateLimitPolicy'] = result.policy.name;
  if (result.policy.tier !== defaultTier) fields['rateLimitTier'] = result.policy.tier;
  let shadow: string[] | undefined;
  for (const outcome of result.outcomes) {
    if (outcome.policy.shadow && !outcome.decision.allowed) (shadow ??= []).push(outcome.policy.name);
  }
  if (shadow) fields['rateLimitShadow'] = shadow;
  return fields;
}
