/**
 * What the store deadline measures, as a pure function with the clock passed in.
 *
 * `RATE_LIMIT_TIMEOUT_MS` is the time the store has to answer while this process is free to hear
 * it. A timer runs in the event loop's timers phase, before the poll phase that reads sockets: when
 * GraphQL work holds the loop past the deadline, the timer fires with the store's reply already
 * waiting in the socket. So when the timer fires, the call waits one more turn of the loop (past
 * the poll phase) before it counts as a timeout; a reply read in that turn is used.
 *
 * And when that deadline was not a free one (the timer fired late, or the turn after it came
 * late: the loop or the isolate was running other requests' work, so neither a connection
 * handshake, nor a second round trip, nor the reading of a reply could progress), the store gets
 * another deadline, for as long as the deadlines keep being busy. The call fails open at the first
 * deadline the process was free to hear the store for and heard nothing, and in any case once
 * `maxWaitMs` has passed since it started.
 *
 * Both clocks this works with advance between callbacks: Node's, and workerd's, which stands
 * still while JavaScript runs and moves on when the isolate takes its next event (a timer or I/O),
 * so a callback sees how long it was kept waiting.
 */

export interface DeadlineOptions {
  /** The store's deadline, `RATE_LIMIT_TIMEOUT_MS`. */
  readonly timeoutMs: number;
  /** A timer (or the turn after it) this much later than due means the process was busy; default 10 ms. */
  readonly lagToleranceMs: number;
  /** However busy the process, a call fails open once this long has passed since it started. */
  readonly maxWaitMs: number;
}

export const defaultLagToleranceMs = 10;
export const defaultMaxWaitMs = 5000;

/** One expiry of the deadline's timer, after the turn it was given found no reply. */
export interface Expiry {
  /** When the call started (ms, the caller's clock). */
  readonly startedAt: number;
  /** When the timer was due. */
  readonly dueAt: number;
  /** When it ran. */
  readonly firedAt: number;
  /** When the turn after it ran (the moment of judging). */
  readonly judgedAt: number;
}

/** How long the loop held the timer past its due time. */
export function lagMs(expiry: Pick<Expiry, 'dueAt' | 'firedAt'>): number {
  return Math.max(0, expiry.firedAt - expiry.dueAt);
}

/** How busy the process was around this expiry: the timer's lag or the wait for the turn after it. */
export function busyMs(expiry: Pick<Expiry, 'dueAt' | 'firedAt' | 'judgedAt'>): number {
  return Math.max(lagMs(expiry), expiry.judgedAt - expiry.firedAt);
}

/**
 * `fail`: the store had a deadline with the process free and did not answer (a store failure),
 * or `maxWaitMs` has passed. `extend`: the process, not the store, used up the deadline; give the
 * store another.
 */
export function afterExpiry(expiry: Expiry, options: DeadlineOptions): 'fail' | 'extend' {
  if (busyMs(expiry) <= options.lagToleranceMs) return 'fail';
  return expiry.judgedAt - expiry.startedAt < options.maxWaitMs ? 'extend' : 'fail';
}
