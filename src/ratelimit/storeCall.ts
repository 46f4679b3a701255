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
 * Its deadline's timer is its own, or, given a `SharedDeadlineTimer`, one timer shared by every
 * pending call of the store (Node: a timer per call was about 0.3 µs of the 0.8 µs the deadline,
 * breaker and block cache add to a decision).
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
  readonly #shared: SharedDeadlineTimer | undefined;

  constructor(options: DecideOptions, deadline: DeadlineOptions, now: () => number, shared?: SharedDeadlineTimer) {
    this.waitUntil = options.waitUntil;
    this.#caller = options.signal;
    this.#deadline = deadline;
    this.#now = now;
    this.#shared = shared;
  }

  /** When its deadline's timer is due (the caller's clock). */
  get dueAt(): number {
    return this.#dueAt;
  }

  /** The call has its answer (or gave up): its deadline no longer matters. */
  get settled(): boolean {
    return this.#settled;
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
      this.#arm(this.#startedAt);
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
    if (this.#timer !== undefined) clearTimeout(this.#timer);
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

  #arm(now: number): void {
    this.#dueAt = now + this.#deadline.timeoutMs;
    if (this.#shared) this.#shared.add(this);
    else this.#timer = setTimeout(timerFired, this.#deadline.timeoutMs, this);
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
      this.#arm(expiry.judgedAt);
      return;
    }
    this.abort(new StoreTimeoutError(this.#deadline.timeoutMs));
  }
}

/**
 * One timer for the deadlines of every pending call of a store. Its calls all have the same
 * timeout and each is queued when its deadline starts (again when it is extended), so they are
 * queued in the order they are due: the timer is armed for the first call still pending, and when
 * it runs it expires every call that is due, in that order, and is armed again for the next.
 * Calls that have their answer leave the queue from its front as new calls come, or when the
 * timer runs: the queue holds about the calls in flight. Node only: in workerd a timer belongs to
 * the request that set it and ends with it, so each call keeps its own there.
 *
 * @example
 * const timer = new SharedDeadlineTimer(performance.now.bind(performance));
 * const call = new StoreCall(options, deadline, now, timer);
 */
export class SharedDeadlineTimer {
  readonly #now: () => number;
  /** Pending calls in the order they are due; those before `#head` have left (emptied slots). */
  #queue: (StoreCall | undefined)[] = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Pending calls queued (settled ones not yet dropped included). */
  get size(): number {
    return this.#queue.length - this.#head;
  }

  add(call: StoreCall): void {
    this.#dropSettled();
    this.#queue.push(call);
    if (this.#timer === undefined) this.#arm(call.dueAt);
  }

  /** The timer ran: expire every due call still pending, then wait for the next. */
  fire(): void {
    this.#timer = undefined;
    const now = this.#now();
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const call = queue[this.#head]!;
      if (!call.settled && call.dueAt > now) break;
      queue[this.#head++] = undefined;
      if (!call.settled) call.expired();
    }
    this.#dropSettled();
    const next = this.#queue[this.#head];
    if (next !== undefined) this.#arm(next.dueAt);
  }

  /** The store is closed: stops the timer, and calls still pending end at once (they fail open). */
  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const pending = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    for (const call of pending) if (call && !call.settled) call.abort(new Error('the rate-limit store was closed'));
  }

  #arm(dueAt: number): void {
    this.#timer = setTimeout(sharedTimerFired, Math.max(0, dueAt - this.#now()), this);
  }

  /** Calls answered at the front leave the queue (they answer about in the order they were made). */
  #dropSettled(): void {
    const queue = this.#queue;
    while (this.#head < queue.length && queue[this.#head]!.settled) queue[this.#head++] = undefined;
    if (this.#head === queue.length) {
      queue.length = 0;
      this.#head = 0;
    } else this.#compact();
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}

function sharedTimerFired(timer: SharedDeadlineTimer): void {
  timer.fire();
}

function timerFired(call: StoreCall): void {
  call.expired();
}

function turnPassed(call: StoreCall): void {
  call.judge();
}
