import { requestIdOf } from '../../http/requestId.js';
import type { Step } from '../compose.js';
import type { RequestContext } from '../context.js';

/** Durations of one request's phases, in milliseconds. */
export interface Timings {
  readonly rateLimitMs: number;
  readonly gatewayMs: number;
  readonly totalMs: number;
}

/**
 * The request id and the clock: fixes the request's id (the client's own `X-Request-Id` if it is
 * a plain token, else a new UUID) and when handling started; on the way out, measures the whole
 * and writes `X-Processing-Time`, `Server-Timing` and `X-Request-Id` on whatever came back.
 *
 * @example requestIdAndTiming(() => performance.now())
 */
export function requestIdAndTiming(now: () => number): Step<RequestContext> {
  return async (c, next) => {
    c.started = now();
    c.requestId = requestIdOf(c.request);
    await next();
    c.totalMs = now() - c.started;
    const headers = c.response.headers;
    headers.set('X-Processing-Time', processingTime(c));
    headers.set('Server-Timing', serverTiming(c));
    headers.set('X-Request-Id', c.requestId);
  };
}

/** `X-Processing-Time`: the whole handling time, e.g. `3.42ms`. */
export function processingTime(t: Timings): string {
  return `${t.totalMs.toFixed(2)}ms`;
}

/** `Server-Timing`, e.g. `ratelimit;dur=0.31, gateway;dur=3.05, total;dur=3.42`. */
export function serverTiming(t: Timings): string {
  return `ratelimit;dur=${t.rateLimitMs.toFixed(2)}, gateway;dur=${t.gatewayMs.toFixed(2)}, total;dur=${t.totalMs.toFixed(2)}`;
}
