/**
 * The rate-limit algorithms as pure functions: the clock is passed in, nothing is stored here.
 * Every store (memory here, the Lua script in ./redis/decideScript.ts) has these semantics; the
 * shared scenario tests hold them to it.
 *
 * - `fixed-window` (docs/architecture.md, "Rate limiting: the policy"): a blocked client is rejected
 *   with the block's remaining time and the block is not extended. Otherwise the request is
 *   counted; the first request of a window starts the window. The request that takes the count
 *   over the limit starts the penalty block and drops the counter; after the block the client
 *   starts afresh. Without a penalty, that request is rejected until the window ends.
 * - `sliding-window`: windows aligned to the epoch; the previous window's count weighted by how
 *   much of it still overlaps the sliding window, plus the current window's count.
 * - `token-bucket`: `limit` tokens at most, refilled at `refillPerSecond`; a request takes its
 *   cost in tokens, or is rejected until that many have refilled.
 *
 * Each function answers the decision and the state to store if the decision is applied; how the
 * decisions of several policies of one key combine is `decideAll`'s.
 */

export type Algorithm = 'fixed-window' | 'sliding-window' | 'token-bucket';
export const algorithms: readonly Algorithm[] = ['fixed-window', 'sliding-window', 'token-bucket'];

/** A fixed window with an optional penalty block (the seed's policy). */
export interface RateLimitPolicy {
  readonly algorithm?: 'fixed-window';
  /** Requests (or cost) allowed per window. */
  readonly limit: number;
  /** Window length in milliseconds, starting at the client's first request. */
  readonly windowMs: number;
  /** Block length in milliseconds once the limit is exceeded; 0: no block. */
  readonly penaltyMs: number;
}

export interface SlidingWindow {
  readonly algorithm: 'sliding-window';
  readonly limit: number;
  readonly windowMs: number;
}

export interface TokenBucket {
  readonly algorithm: 'token-bucket';
  /** The bucket's capacity. */
  readonly limit: number;
  readonly refillPerSecond: number;
}

/** What one decision needs of a policy: its algorithm and figures, the tier's limit chosen. */
export type Limit = RateLimitPolicy | SlidingWindow | TokenBucket;

export const defaultPolicy: RateLimitPolicy = { limit: 50, windowMs: 60_000, penaltyMs: 40_000 };

export type Decision =
  | {
      readonly allowed: true;
      /** What is left after this request (requests, cost units, whole tokens). */
      readonly remaining: number;
      /** Milliseconds until the quota is whole again (the window ends; the bucket is full). */
      readonly resetMs: number;
    }
  | {
      readonly allowed: false;
      /** `limited`: over the limit now (and a penalty block started); `blocked`: in a block already. */
      readonly reason: 'limited' | 'blocked';
      /** Milliseconds until a request of the same cost can pass (the block's end). */
      readonly retryAfterMs: number;
    };

/** Fixed window: one client's entry between requests. Absent means "never seen or expired". */
export interface ClientState {
  /** Counted in the current window (0 while blocked). */
  readonly count: number;
  /** When the current window ends (epoch ms); meaningless while count is 0. */
  readonly windowEndsAt: number;
  /** When the block ends (epoch ms); 0 when not blocked. */
  readonly blockedUntil: number;
}

/** Sliding window: the counts of the current and the previous window. */
export interface SlidingState {
  /** The current window's index: `floor(now / windowMs)`. */
  readonly window: number;
  readonly current: number;
  readonly previous: number;
}

/** Token bucket: the tokens left when it was last charged. */
export interface BucketState {
  readonly tokens: number;
  readonly updatedAt: number;
}

export type AnyState = ClientState | SlidingState | BucketState;

/**
 * A decision and the state it leaves: `next` is written if the decision is applied (`undefined`:
 * nothing changes), and `expiresAt` is when that state stops mattering.
 */
export interface Evaluation<S> {
  readonly decision: Decision;
  readonly next: S | undefined;
  readonly expiresAt: number;
}

/** Fixed window, one request of `cost`. */
export function fixedWindow(state: ClientState | undefined, now: number, policy: RateLimitPolicy, cost = 1): Evaluation<ClientState> {
  if (state && state.blockedUntil > now) {
    return {
      decision: { allowed: false, reason: 'blocked', retryAfterMs: state.blockedUntil - now },
      next: undefined,
      expiresAt: state.blockedUntil,
    };
  }
  const windowOpen = state !== undefined && state.count > 0 && state.windowEndsAt > now;
  const count = (windowOpen ? state.count : 0) + cost;
  const windowEndsAt = windowOpen ? state.windowEndsAt : now + policy.windowMs;
  if (count > policy.limit) {
    if (policy.penaltyMs > 0) {
      const blockedUntil = now + policy.penaltyMs;
      return {
        decision: { allowed: false, reason: 'limited', retryAfterMs: policy.penaltyMs },
        next: { count: 0, windowEndsAt: 0, blockedUntil },
        expiresAt: blockedUntil,
      };
    }
    return {
      decision: { allowed: false, reason: 'limited', retryAfterMs: windowEndsAt - now },
      next: undefined,
      expiresAt: windowOpen ? windowEndsAt : now,
    };
  }
  return {
    decision: { allowed: true, remaining: policy.limit - count, resetMs: windowEndsAt - now },
    next: { count, windowEndsAt, blockedUntil: 0 },
    expiresAt: windowEndsAt,
  };
}

/**
 * Sliding window, one request of `cost`: allowed while
 * `previous × (windowMs − elapsed) / windowMs + current + cost ≤ limit`. A rejection's retry-after
 * is when, with no more requests counted, that holds again.
 */
export function slidingWindow(state: SlidingState | undefined, now: number, policy: SlidingWindow, cost = 1): Evaluation<SlidingState> {
  const w = policy.windowMs;
  const window = Math.floor(now / w);
  const elapsed = now - window * w;
  let current = 0;
  let previous = 0;
  if (state && state.window === window) {
    current = state.current;
    previous = state.previous;
  } else if (state && state.window === window - 1) {
    previous = state.current;
  }
  const estimate = (previous * (w - elapsed)) / w + current;
  if (estimate + cost <= policy.limit) {
    return {
      decision: { allowed: true, remaining: Math.floor(policy.limit - estimate - cost), resetMs: w - elapsed },
      next: { window, current: current + cost, previous },
      expiresAt: (window + 2) * w,
    };
  }
  let retryAfterMs: number;
  if (current + cost <= policy.limit) {
    // The previous window's share decays until it leaves room.
    retryAfterMs = Math.ceil(w - elapsed - ((policy.limit - current - cost) * w) / previous);
  } else if (cost <= policy.limit) {
    // Not before the next window, where this window's count becomes the decaying one.
    retryAfterMs = w - elapsed + Math.ceil(w - ((policy.limit - cost) * w) / current);
  } else {
    retryAfterMs = w - elapsed + w;
  }
  return {
    decision: { allowed: false, reason: 'limited', retryAfterMs: Math.max(1, retryAfterMs) },
    next: undefined,
    expiresAt: state ? (state.window + 2) * w : now,
  };
}

/** Token bucket, one request of `cost`. A bucket never seen is full. */
export function tokenBucket(state: BucketState | undefined, now: number, policy: TokenBucket, cost = 1): Evaluation<BucketState> {
  const rate = policy.refillPerSecond;
  /** Whole milliseconds until a bucket holding `tokens` is full: a decision's `resetMs`, the state's expiry. */
  const fillMs = (tokens: number): number => Math.ceil(((policy.limit - tokens) * 1000) / rate);
  let tokens = policy.limit;
  if (state) {
    const elapsed = Math.max(0, now - state.updatedAt);
    // Full once its fill time has passed, as `resetMs` promised and as a store that has dropped
    // the expired state sees it; the sum below can round to just under the capacity then.
    if (elapsed < fillMs(state.tokens)) tokens = Math.min(policy.limit, state.tokens + (elapsed * rate) / 1000);
  }
  if (tokens >= cost) {
    const left = tokens - cost;
    const resetMs = fillMs(left);
    return {
      decision: { allowed: true, remaining: Math.floor(left), resetMs },
      next: { tokens: left, updatedAt: now },
      expiresAt: now + resetMs,
    };
  }
  const retryAfterMs = Math.max(1, Math.ceil(((cost - tokens) * 1000) / rate));
  const full = state ? state.updatedAt + fillMs(state.tokens) : now;
  return { decision: { allowed: false, reason: 'limited', retryAfterMs }, next: undefined, expiresAt: full };
}

/** One policy of one key, as a store decides it for one request. */
export interface Check {
  /** The policy's name: its store keys, headers and labels. */
  readonly name: string;
  readonly limit: Limit;
  /** What the request takes: 1 for a policy of `requests`. */
  readonly cost: number;
  /** Decided and charged like the others, never rejects the request. */
  readonly shadow?: boolean;
  /** The Rate Limiting binding that counts it (`RATE_LIMIT_STORE=cloudflare` only; other stores ignore it). */
  readonly binding?: string;
}

/** Evaluates one check against its state. */
export function evaluate(check: Check, state: AnyState | undefined, now: number): Evaluation<AnyState> {
  const limit = check.limit;
  switch (limit.algorithm) {
    case 'sliding-window':
      return slidingWindow(state as SlidingState | undefined, now, limit, check.cost);
    case 'token-bucket':
      return tokenBucket(state as BucketState | undefined, now, limit, check.cost);
    default:
      return fixedWindow(state as ClientState | undefined, now, limit, check.cost);
  }
}

/**
 * The decision of every check of one key, atomically: each is evaluated; if an enforced one
 * rejects, the request is rejected and only the rejecting checks apply their state (a fixed
 * window's penalty block starts; nothing is counted); otherwise every check applies its state
 * (shadow checks that would reject included). `writes[i]` is the state to store for check i, or
 * undefined to leave it.
 */
export function decideAll(
  checks: readonly Check[],
  states: readonly (AnyState | undefined)[],
  now: number,
): { decisions: Decision[]; writes: (Evaluation<AnyState> | undefined)[] } {
  const evaluations = checks.map((check, i) => evaluate(check, states[i], now));
  const rejected = evaluations.some((e, i) => !e.decision.allowed && !checks[i]!.shadow);
  return {
    decisions: evaluations.map((e) => e.decision),
    writes: evaluations.map((e) => (e.next !== undefined && (!rejected || !e.decision.allowed) ? e : undefined)),
  };
}

/** The fixed-window decision of one request (the seed's policy), with its next state. */
export function decide(state: ClientState | undefined, now: number, policy: RateLimitPolicy): { state: ClientState; decision: Decision } {
  const { decision, next } = fixedWindow(state, now, policy);
  return { state: next ?? state ?? { count: 0, windowEndsAt: 0, blockedUntil: 0 }, decision };
}

/** When a fixed-window state stops mattering: after this instant it is the same as no state. */
export function expiresAt(state: ClientState): number {
  return Math.max(state.blockedUntil, state.count > 0 ? state.windowEndsAt : 0);
}

/** The policy's `w` in `RateLimit-Policy`: its window, or the time a token bucket takes to fill from empty. */
export function windowMsOf(limit: Limit): number {
  return limit.algorithm === 'token-bucket' ? (limit.limit * 1000) / limit.refillPerSecond : limit.windowMs;
}

/** Seconds for `Retry-After` and `RateLimit: t=`: whole seconds, rounded up, at least 1. */
export function toSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * What a refund gives back to one policy: part of what a request was charged (`amount`), with
 * the charge's decision's `resetMs` (when its window ends, or its bucket is full) and the
 * milliseconds since that decision, `elapsedMs`, on the caller's clock.
 */
export interface Refund {
  readonly check: Check;
  readonly amount: number;
  readonly resetMs: number;
  readonly elapsedMs: number;
}

/**
 * How far a fixed window's end may be from where the charge's decision put it and still be the
 * window charged: the two clocks' readings (the store's, the caller's) of the time since the
 * charge differ by the store's round trips. A later window after a penalty block ends at least a
 * second (the shortest block) later.
 */
export const refundWindowToleranceMs = 250;

/** The state a refund leaves and when it stops mattering. */
export interface RefundWrite {
  readonly next: AnyState;
  readonly expiresAt: number;
}

/**
 * The state a refund leaves, or undefined when it changes nothing. Never beyond capacity and
 * never into a window other than the one charged:
 *
 * - fixed window: the count goes down by `amount` (not below 0) while the window charged is still
 *   open: a window that has ended, a later one, and a block are left alone. The window charged is
 *   the open one when what is left of it is at most `resetMs` and within
 *   `refundWindowToleranceMs` of `resetMs − elapsedMs` (a window started after the charged one
 *   ended, or after a penalty block, ends later by a second or more);
 * - sliding window: the current window's count goes down, with the same test of the window;
 * - token bucket: the tokens go up, refilled to now first, to the capacity at most. A bucket
 *   that is full (or never seen) stays as it is.
 */
export function refundState(refund: Refund, state: AnyState | undefined, now: number): RefundWrite | undefined {
  const limit = refund.check.limit;
  if (!state || refund.amount <= 0) return undefined;
  switch (limit.algorithm) {
    case 'sliding-window': {
      const s = state as SlidingState;
      const w = limit.windowMs;
      const window = Math.floor(now / w);
      const left = (window + 1) * w - now;
      if (s.window !== window || left > refund.resetMs || s.current <= 0) return undefined;
      return { next: { ...s, current: Math.max(0, s.current - refund.amount) }, expiresAt: (window + 2) * w };
    }
    case 'token-bucket': {
      const b = state as BucketState;
      const rate = limit.refillPerSecond;
      const elapsed = Math.max(0, now - b.updatedAt);
      const fillMs = Math.ceil(((limit.limit - b.tokens) * 1000) / rate);
      if (elapsed >= fillMs) return undefined;
      const tokens = Math.min(limit.limit, b.tokens + (elapsed * rate) / 1000 + refund.amount);
      return {
        next: { tokens, updatedAt: now },
        expiresAt: now + Math.ceil(((limit.limit - tokens) * 1000) / rate),
      };
    }
    default: {
      const f = state as ClientState;
      const left = f.windowEndsAt - now;
      if (f.blockedUntil > now || f.count <= 0 || left <= 0 || left > refund.resetMs) return undefined;
      if (Math.abs(left - (refund.resetMs - refund.elapsedMs)) > refundWindowToleranceMs) return undefined;
      return { next: { ...f, count: Math.max(0, f.count - refund.amount) }, expiresAt: f.windowEndsAt };
    }
  }
}

/**
 * Whether a refund can still reach the window it was charged in: that window has not ended. A
 * token bucket has no window: always.
 */
export function refundable(refund: Refund): boolean {
  return refund.check.limit.algorithm === 'token-bucket' || refund.elapsedMs < refund.resetMs;
}
