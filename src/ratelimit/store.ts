import type { Decision, RateLimitPolicy } from './policy.js';
import type { DecisionSource, FailOpenCause } from './result.js';

export type { DecisionSource, FailOpenCause } from './result.js';

/**
 * What a store answers: the policy's decision and, from stores that can answer without deciding
 * (`ResilientStore`), how it was reached. The rate-limit step turns it into the request's
 * `RateLimitResult` (result.ts), whose list of sources this shares.
 */
export type StoreDecision = Decision & {
  readonly source?: DecisionSource;
  /** With `source: 'failed-open'`: why. */
  readonly cause?: FailOpenCause;
};

export interface DecideOptions {
  /** Aborted when the caller's deadline passes. */
  readonly signal?: AbortSignal;
  /** Where work that must outlive the decision (closing a per-request connection) is handed. */
  readonly waitUntil?: (promise: Promise<unknown>) => void;
}

/**
 * Where rate-limit state lives. Every store makes the whole decision for one request atomically
 * (docs/architecture.md: one round trip on Redis), with the semantics of `decide` in policy.ts.
 */
export interface RateLimitStore {
  /** Short name for logs and readiness: `memory`, `redis`, `upstash`. */
  readonly kind: string;
  /** Decides one request of `clientKey` under `policy`. May reject on store failure. */
  decide(clientKey: string, policy: RateLimitPolicy, options?: DecideOptions): Promise<StoreDecision>;
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

export interface StoreHealth {
  readonly status: 'ok' | 'degraded';
  readonly detail?: string;
}
