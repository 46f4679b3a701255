/** Durations of one request's phases, in milliseconds. */
export interface Timings {
  readonly rateLimitMs: number;
  readonly gatewayMs: number;
  readonly totalMs: number;
}

/** `X-Processing-Time`: the whole handling time, e.g. `3.42ms`. */
export function processingTime(t: Timings): string {
  return `${t.totalMs.toFixed(2)}ms`;
}

/** `Server-Timing`, e.g. `ratelimit;dur=0.31, gateway;dur=3.05, total;dur=3.42`. */
export function serverTiming(t: Timings): string {
  return `ratelimit;dur=${t.rateLimitMs.toFixed(2)}, gateway;dur=${t.gatewayMs.toFixed(2)}, total;dur=${t.totalMs.toFixed(2)}`;
}
