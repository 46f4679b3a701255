/**
 * The circuit breaker around the shared store, as pure transitions with the clock passed in.
 *
 * closed: every decision goes to the store; `failureThreshold` consecutive failures open it.
 * open: nothing goes to the store for `coolDownMs`; the per-instance limiter decides.
 * half-open: one probe goes to the store (the others use the per-instance limiter); success
 * closes the breaker, failure opens it for another cool-down.
 */

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker; default 5. */
  readonly failureThreshold: number;
  /** How long an open breaker keeps calls away from the store before one probe; default 5 s. */
  readonly coolDownMs: number;
}

export const defaultBreakerOptions: BreakerOptions = { failureThreshold: 5, coolDownMs: 5_000 };

export interface Breaker {
  readonly state: BreakerState;
  /** Consecutive failures while closed. */
  readonly failures: number;
  /** While open: when the next probe may go. */
  readonly probeAt: number;
}

export const closedBreaker: Breaker = { state: 'closed', failures: 0, probeAt: 0 };

/** Where the next decision goes: the store (`call`), the store as the one `probe`, or the `fallback`. */
export type Route = 'call' | 'probe' | 'fallback';

export function route(breaker: Breaker, now: number): { breaker: Breaker; route: Route } {
  switch (breaker.state) {
    case 'closed':
      return { breaker, route: 'call' };
    case 'open':
      return now >= breaker.probeAt ? { breaker: { ...breaker, state: 'half-open' }, route: 'probe' } : { breaker, route: 'fallback' };
    case 'half-open':
      return { breaker, route: 'fallback' };
  }
}

/** The store answered: the breaker closes (from any state). */
export function succeeded(_breaker: Breaker): Breaker {
  return closedBreaker;
}

/** The store failed or missed its deadline. */
export function failed(breaker: Breaker, now: number, options: BreakerOptions): Breaker {
  switch (breaker.state) {
    case 'closed': {
      const failures = breaker.failures + 1;
      return failures >= options.failureThreshold
        ? { state: 'open', failures, probeAt: now + options.coolDownMs }
        : { ...breaker, failures };
    }
    case 'half-open':
      return { state: 'open', failures: breaker.failures, probeAt: now + options.coolDownMs };
    case 'open':
      // A call made before the breaker opened, failing late: nothing new.
      return breaker;
  }
}
