import type { Check, Decision, Refund } from './policy.js';
import type { DecisionSource, FailOpenCause } from './result.js';

export type { DecisionSource, FailOpenCause } from './result.js';
export type { Check, Refund } from './policy.js';

/**
 * What a store answers for one key: a decision per check, in the checks' order, and, from stores
 * that can answer without deciding (`ResilientStore`), how it was reached. A decision is
 * `undefined` for a check that was not decided (an instance that remembers a block of one policy
 * answers that policy's rejection alone). The rate-limit step turns verdicts into the request's
 * `RateLimitResult` (result.ts), whose list of sources this shares.
 */
export interface StoreVerdict {
  readonly decisions: readonly (Decision | undefined)[];
  readonly source?: DecisionSource;
  /** With `source: 'failed-open'`: why. */
  readonly cause?: FailOpenCause;
}

export interface DecideOptions {
  /** Aborted when the caller's deadline passes. */
  readonly signal?: AbortSignal;
  /** Where work that must outlive the decision (closing a per-request connection) is handed. */
  readonly waitUntil?: (promise: Promise<unknown>) => void;
}

export interface RefundOptions extends DecideOptions {
  /**
   * Which store charged what is given back: the store itself (the default) or, behind
   * `ResilientStore`, its per-instance limiter while the breaker was open.
   */
  readonly chargedBy?: 'store' | 'fallback';
}

/**
 * Where rate-limit state lives. Every store decides all the checks of one key for one request
 * atomically (docs/architecture.md: one round trip on Redis), with the semantics of `decideAll`
 * in policy.ts.
 */
export interface RateLimitStore {
  /** Short name for logs and readiness: `memory`, `redis`, `upstash`. */
  readonly kind: string;
  /**
   * What its decisions know. `counts` (the default): remaining counts, resets and retry-afters
   * are the store's. `yes-no` (Cloudflare's Rate Limiting binding): only whether the request may
   * pass; a rejection's retry-after is a bound (the period), not the end of a known block, so it
   * is neither remembered by the block cache nor a remaining count put in a header.
   */
  readonly answers?: StoreAnswers;
  /** Decides one request of `clientKey` under `checks` (at least one). May reject on store failure. */
  decide(clientKey: string, checks: readonly Check[], options?: DecideOptions): Promise<StoreVerdict>;
  /**
   * Gives back part of what a request of `clientKey` was charged (`refundState` in policy.ts: never
   * beyond capacity, never into a window other than the one charged), atomically. Called off the
   * request's path, after the response. Stores that cannot refund (the Rate Limiting binding)
   * leave it out.
   */
  refund?(clientKey: string, refunds: readonly Refund[], options?: RefundOptions): Promise<void>;
  /**
   * Makes the connection and whatever else the first decision would wait for (a Cluster's slots,
   * the decide script loaded), so that a burst right after start-up is decided like any other.
   * Rejects when the store cannot be reached before `signal` aborts. Stores that connect per
   * request, or need nothing, leave it out.
   */
  connect?(signal?: AbortSignal): Promise<void>;
  /** `ok`, or `degraded` while the store is failing and a fallback is answering. */
  health?(): StoreHealth;
  /** Releases connections. Idempotent. */
  close(): Promise<void>;
}

export type StoreAnswers = 'counts' | 'yes-no';

export interface StoreHealth {
  readonly status: 'ok' | 'degraded';
  readonly detail?: string;
}
