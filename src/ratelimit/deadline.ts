/**
 * What the store deadline measures, as a pure function with the clock passed in.
 *
 * `RATE_LIMIT_TIMEOUT_MS` is the time the store has to answer while this process is free to hear
 * it. A timer runs in the event loop's timers phase, before the poll phase that reads sockets: when
 * GraphQL work holds the loop past the deadline, the timer fires with the store's reply already
 * waiting in the socket. So when the timer fires, the call waits one more turn of the loop (past
 * the poll phase) before it counts as a timeout; a reply read in that turn is used. And when the
 * timer fired late (the loop was busy: a connection handshake or a second round trip, such as
 * EVAL after NOSCRIPT, could not progress either), the store gets one more deadline, this time
 * with the loop free, before the call fails open.
 */

export interface DeadlineOptions {
  /** The store's deadline, `RATE_LIMIT_TIMEOUT_MS`. */
  readonly timeoutMs: number;
  /** A timer firing later than this after it was due means the loop was busy; default 10 ms. */
  readonly lagToleranceMs: number;
}

export const defaultLagToleranceMs = 10;

/** One expiry of the deadline's timer, after the turn it was given found no reply. */
export interface Expiry {
  /** When the timer was due (ms, the caller's clock). */
  readonly dueAt: number;
  /** When it ran. */
  readonly firedAt: number;
  /** Whether the store already had its extra deadline. */
  readonly extended: boolean;
}

/** How long the loop held the timer past its due time. */
export function lagMs(expiry: Pick<Expiry, 'dueAt' | 'firedAt'>): number {
  return Math.max(0, expiry.firedAt - expiry.dueAt);
}

/**
 * `fail`: the store had its deadline with the loop free and did not answer (a store failure).
 * `extend`: the loop, not the store, used up the deadline; give the store one more.
 */
export function afterExpiry(expiry: Expiry, options: DeadlineOptions): 'fail' | 'extend' {
  return !expiry.extended && lagMs(expiry) > options.lagToleranceMs ? 'extend' : 'fail';
}
