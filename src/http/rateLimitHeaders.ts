import { toSeconds, type Decision, type RateLimitPolicy } from '../ratelimit/policy.js';

/**
 * Rate-limit response headers in the IETF httpapi ratelimit-headers draft's structured form:
 * `RateLimit-Policy: "default";q=50;w=60` and `RateLimit: "default";r=<remaining>;t=<seconds>`.
 * A rejection also gets `Retry-After`.
 */
export function rateLimitPolicyHeader(policy: RateLimitPolicy): string {
  return `"default";q=${policy.limit};w=${toSeconds(policy.windowMs)}`;
}

export function setRateLimitHeaders(headers: Headers, policyHeader: string, decision: Decision | undefined): void {
  headers.set('RateLimit-Policy', policyHeader);
  if (decision === undefined) return;
  if (decision.allowed) {
    headers.set('RateLimit', `"default";r=${decision.remaining};t=${toSeconds(decision.resetMs)}`);
  } else {
    const retryAfter = String(toSeconds(decision.retryAfterMs));
    headers.set('RateLimit', `"default";r=0;t=${retryAfter}`);
    headers.set('Retry-After', retryAfter);
  }
}
