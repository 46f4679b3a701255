import { errorBody, jsonResponse } from '../../http/errors.js';
import type { Logger } from '../../log.js';
import { toSeconds, type RateLimitPolicy } from '../../ratelimit/policy.js';
import { failedOpen, type NamedPolicy, type RateLimitDecided } from '../../ratelimit/result.js';
import type { RateLimitStore, StoreDecision } from '../../ratelimit/store.js';
import type { Step } from '../compose.js';
import type { RequestContext } from '../context.js';

export interface RateLimitOptions {
  readonly store: RateLimitStore;
  readonly policy: RateLimitPolicy;
  /** Where a store that throws is reported (at most one line per 10 s). */
  readonly log: Logger;
  /** A monotonic clock in milliseconds, for `rateLimitMs`. */
  readonly now: () => number;
}

/**
 * The rate limit: one decision from the store for the client's key, turned here, once, into the
 * request's `RateLimitResult` (src/ratelimit/result.ts) that the headers, the log line and the
 * metrics read. Rejected: 429 with `Retry-After`, and the rest of the lifecycle (body, gateway) is
 * never reached. Either way the `RateLimit-Policy` and `RateLimit` headers (IETF httpapi
 * ratelimit-headers draft) go on whatever comes back. Exempt paths pass by.
 *
 * @example rateLimit({ store: new MemoryStore(), policy: defaultPolicy, log, now: () => performance.now() })
 */
export function rateLimit(options: RateLimitOptions): Step<RequestContext> {
  const { store, log, now } = options;
  const policy: NamedPolicy = { name: 'default', ...options.policy };
  const policyHeader = rateLimitPolicyHeader(policy);
  const storeFailed = throttledWarning(log, 10_000);

  async function decide(c: RequestContext): Promise<RateLimitDecided> {
    let decision: StoreDecision;
    try {
      decision = await store.decide(c.clientKey ?? '', policy, { waitUntil: (p) => c.platform.waitUntil(p) });
    } catch (error) {
      // Stores with their own deadline and breaker never get here; this is the last guard.
      storeFailed(error);
      decision = failedOpen(policy, 'error');
    }
    return { ...decision, source: decision.source ?? 'store', policy };
  }

  return async (c, next) => {
    if (c.rateLimit.source === 'exempt') return next();
    const started = now();
    const result = (c.rateLimit = await decide(c));
    c.rateLimitMs = now() - started;
    if (result.allowed) {
      await next();
    } else {
      const retryAfter = toSeconds(result.retryAfterMs);
      c.response = jsonResponse(
        429,
        errorBody(`Too many requests: retry in ${retryAfter} s.`, 'RATE_LIMITED', c.requestId, { retryAfter }),
      );
    }
    setRateLimitHeaders(c.response.headers, policyHeader, result);
  };
}

/** `RateLimit-Policy: "default";q=50;w=60`. */
export function rateLimitPolicyHeader(policy: NamedPolicy): string {
  return `"${policy.name}";q=${policy.limit};w=${toSeconds(policy.windowMs)}`;
}

/** `RateLimit: "default";r=<remaining>;t=<seconds>`, and `Retry-After` on a rejection. */
export function setRateLimitHeaders(headers: Headers, policyHeader: string, result: RateLimitDecided): void {
  headers.set('RateLimit-Policy', policyHeader);
  if (result.allowed) {
    headers.set('RateLimit', `"${result.policy.name}";r=${result.remaining};t=${toSeconds(result.resetMs)}`);
  } else {
    const retryAfter = String(toSeconds(result.retryAfterMs));
    headers.set('RateLimit', `"${result.policy.name}";r=0;t=${retryAfter}`);
    headers.set('Retry-After', retryAfter);
  }
}

/** Logs a failure at most once per interval, with the count since the last line. */
function throttledWarning(log: Logger, intervalMs: number): (error: unknown) => void {
  let lastAt = -Infinity;
  let suppressed = 0;
  return (error) => {
    const at = Date.now();
    if (at - lastAt < intervalMs) {
      suppressed++;
      return;
    }
    log.warn('rate-limit store failed; request allowed (fail open)', { error, suppressedSinceLast: suppressed });
    lastAt = at;
    suppressed = 0;
  };
}
