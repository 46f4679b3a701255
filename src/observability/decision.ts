import type { RequestEvent } from '../lifecycle/handle.js';

/**
 * How the rate limiter decided one request, in one word for metric labels and log fields:
 *
 * | decision | meaning |
 * |---|---|
 * | `allowed` | the store let it through |
 * | `limited` | the store rejected it: this request went over the limit and started a block |
 * | `blocked` | the store rejected it: the client was already blocked |
 * | `blocked_local_cache` | rejected from this instance's memory of blocks, without asking the store |
 * | `failed_open` | the store failed or missed its deadline; let through |
 * | `fallback_allowed`, `fallback_limited` | the breaker is open; the per-instance in-memory limiter decided |
 */
export type RateLimitDecision =
  | 'allowed'
  | 'limited'
  | 'blocked'
  | 'blocked_local_cache'
  | 'failed_open'
  | 'fallback_allowed'
  | 'fallback_limited';

export const rateLimitDecisions: readonly RateLimitDecision[] = [
  'allowed',
  'limited',
  'blocked',
  'blocked_local_cache',
  'failed_open',
  'fallback_allowed',
  'fallback_limited',
];

/** The decision, or undefined when the request was not rate limited (exempt path, limiting off). */
export function rateLimitDecision(event: Pick<RequestEvent, 'rateLimit' | 'rateLimitSource'>): RateLimitDecision | undefined {
  const { rateLimit, rateLimitSource } = event;
  if (rateLimit === 'exempt' || rateLimit === 'disabled') return undefined;
  if (rateLimit === 'failed-open' || rateLimitSource === 'failed-open') return 'failed_open';
  if (rateLimitSource === 'local-cache') return 'blocked_local_cache';
  if (rateLimitSource === 'fallback') return rateLimit === 'allowed' ? 'fallback_allowed' : 'fallback_limited';
  return rateLimit;
}

/** Whether deciding the request took a call to the store (whose latency is then worth measuring). */
export function calledStore(decision: RateLimitDecision | undefined): boolean {
  return decision === 'allowed' || decision === 'limited' || decision === 'blocked' || decision === 'failed_open';
}
