/**
 * The rate-limit policy as a pure function: the clock is passed in, nothing is stored here.
 *
 * Semantics (docs/architecture.md, "Rate limiting: the policy"): a blocked client is rejected with the
 * block's remaining time and the block is not extended. Otherwise the request is counted; the
 * first request of a window starts the window. The request that takes the count over the limit
 * starts the penalty block and drops the counter; after the block the client starts afresh.
 */

export interface RateLimitPolicy {
  /** Requests allowed per window. */
  readonly limit: number;
  /** Window length in milliseconds, starting at the client's first request. */
  readonly windowMs: number;
  /** Block length in milliseconds once the limit is exceeded. */
  readonly penaltyMs: number;
}

export const defaultPolicy: RateLimitPolicy = { limit: 50, windowMs: 60_000, penaltyMs: 40_000 };

export type Decision =
  | {
      readonly allowed: true;
      /** Requests left in the current window after this one. */
      readonly remaining: number;
      /** Milliseconds until the current window ends. */
      readonly resetMs: number;
    }
  | {
      readonly allowed: false;
      /** `limited`: this request started the block; `blocked`: the client was already blocked. */
      readonly reason: 'limited' | 'blocked';
      /** Milliseconds until the block ends. */
      readonly retryAfterMs: number;
    };

/** What one client's entry holds between requests. Absent means "never seen or expired". */
export interface ClientState {
  /** Requests counted in the current window (0 while blocked). */
  readonly count: number;
  /** When the current window ends (epoch ms); meaningless while count is 0. */
  readonly windowEndsAt: number;
  /** When the block ends (epoch ms); 0 when not blocked. */
  readonly blockedUntil: number;
}

/** Decides one request and returns the client's next state with the decision. */
export function decide(
  state: ClientState | undefined,
  now: number,
  policy: RateLimitPolicy,
): { state: ClientState; decision: Decision } {
  if (state && state.blockedUntil > now) {
    return { state, decision: { allowed: false, reason: 'blocked', retryAfterMs: state.blockedUntil - now } };
  }
  const windowOpen = state !== undefined && state.count > 0 && state.windowEndsAt > now;
  const count = windowOpen ? state.count + 1 : 1;
  const windowEndsAt = windowOpen ? state.windowEndsAt : now + policy.windowMs;
  if (count > policy.limit) {
    return {
      state: { count: 0, windowEndsAt: 0, blockedUntil: now + policy.penaltyMs },
      decision: { allowed: false, reason: 'limited', retryAfterMs: policy.penaltyMs },
    };
  }
  return {
    state: { count, windowEndsAt, blockedUntil: 0 },
    decision: { allowed: true, remaining: policy.limit - count, resetMs: windowEndsAt - now },
  };
}

/** When a state stops mattering: after this instant it is the same as no state at all. */
export function expiresAt(state: ClientState): number {
  return Math.max(state.blockedUntil, state.count > 0 ? state.windowEndsAt : 0);
}

/** Seconds for `Retry-After` and `RateLimit: t=`: whole seconds, rounded up, at least 1. */
export function toSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
