import { abortReason, StoreTimeoutError } from './abort.js';
import { afterExpiry, busyMs, lagMs, type DeadlineOptions } from './deadline.js';
import type { Check } from './policy.js';
import type { DecideOptions, RateLimitStore, StoreVerdict } from './store.js';

/** Runs `callback(arg)` after the poll phase of this turn (setImmediate; a zero timer where there is none). */
const afterPoll: <T>(callback: (arg: T) => void, arg: T) => void =
  typeof globalThis.setImmediate === 'function'
    ? (callback, arg) => void globalThis.setImmediate(callback, arg)
    : (callback, arg) => void setTimeout(callback, 0, arg);

/**
 * One call to a store under the deadline of `deadline.ts`; it is also the `DecideOptions` the
 * store gets. Its AbortSignal is made only if the store reads it: making one and listening to it
 * costs more CPU than the rest of a Redis decision, and the shared-connection RedisStore never
 * needs it. No closures per call (bundlers that keep function names wrap each one).
 *
 * @example
 * const call = new StoreCall(options, { timeoutMs: 50, lagToleranceMs: 10 }, performance.now.bind(performance));
 * try { decision = await call.run(store, key, checks); } finally { call.done(); }
 */
export class StoreCall implements DecideOptions {
  readonly waitUntil: ((promise: Promise<unknown>) => void) | undefined;
  /** The longest the process held the deadline's timer, or the turn after it, past its time (0: it never fired). */
  lagMs = 0;
  /** The reply arrived after the deadline's timer had fired, and was used. */
  late = false;
  readonly #caller: AbortSignal | undefined;
  readonly #deadline: DeadlineOptions;
  readonly #now: () => number;
  #controller: AbortController | undefined;
  #reject: ((error: Error) => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #startedAt = 0;
  #dueAt = 0;
  #firedAt: number | undefined;
  #settled = false;

  constructor(options: DecideOptions, deadline: DeadlineOptions, now: () => number) {
    this.waitUntil = options.waitUntil;
    this.#caller = options.signal;
    this.#deadline = deadline;
    this.#now = now;
  }

  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  /** The store's decision; a StoreTimeoutError when the deadline passes, the caller's reason when it aborts. */
  run(store: RateLimitStore, clientKey: string, checks: readonly Check[]): Promise<StoreVerdict> {
    return new Promise<StoreVerdict>((resolve, reject) => {
      this.#reject = reject;
      this.#startedAt = this.#now();
      this.#arm();
      const caller = this.#caller;
      if (caller) {
        if (caller.aborted) return this.abort(abortReason(caller));
        caller.addEventListener('abort', this, { once: true });
      }
      store.decide(clientKey, checks, this).then(
        (verdict) => {
          this.#settle();
          resolve(verdict);
        },
        (error: unknown) => {
          this.#settle();
          reject(error);
        },
      );
    });
  }

  /** Releases the timer and the caller's listener once the call is settled. */
  done(): void {
    this.#settled = true;
    clearTimeout(this.#timer);
    this.#caller?.removeEventListener('abort', this);
  }

  abort(error: Error): void {
    this.#settled = true;
    this.#controller?.abort(error);
    this.#reject?.(error);
  }

  /** The caller's signal aborted (EventListener object form). */
  handleEvent(event: Event): void {
    this.abort(abortReason(event.target as AbortSignal));
  }

  #arm(): void {
    this.#dueAt = this.#now() + this.#deadline.timeoutMs;
    this.#timer = setTimeout(timerFired, this.#deadline.timeoutMs, this);
  }

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#firedAt !== undefined) this.late = true;
  }

  /** The timer ran: let the poll phase read what has arrived before judging. */
  expired(): void {
    if (this.#settled) return;
    this.#firedAt = this.#now();
    this.lagMs = Math.max(this.lagMs, lagMs({ dueAt: this.#dueAt, firedAt: this.#firedAt }));
    afterPoll(turnPassed, this);
  }

  /** One turn after the timer: a reply read in it was used; otherwise fail, or extend while the process is busy. */
  judge(): void {
    if (this.#settled) return;
    const expiry = { startedAt: this.#startedAt, dueAt: this.#dueAt, firedAt: this.#firedAt!, judgedAt: this.#now() };
    this.lagMs = Math.max(this.lagMs, busyMs(expiry));
    if (afterExpiry(expiry, this.#deadline) === 'extend') {
      this.#arm();
      return;
    }
    this.abort(new StoreTimeoutError(this.#deadline.timeoutMs));
  }
}

function timerFired(call: StoreCall): void {
  call.expired();
}

function turnPassed(call: StoreCall): void {
  call.judge();
}
