import type { Logger } from '../log.js';
import { abortReason, StoreTimeoutError } from './abort.js';
import { BlockCache } from './blockCache.js';
import {
  closedBreaker,
  defaultBreakerOptions,
  failed,
  route,
  succeeded,
  type Breaker,
  type BreakerOptions,
  type BreakerState,
} from './circuitBreaker.js';
import { MemoryStore } from './memoryStore.js';
import type { RateLimitPolicy } from './policy.js';
import type { DecideOptions, RateLimitStore, StoreDecision, StoreHealth } from './store.js';

export interface ResilientStoreOptions {
  /** Deadline of every call to the inner store (`RATE_LIMIT_TIMEOUT_MS`). */
  readonly timeoutMs: number;
  /** Failures are summarised here, at most one line per `logIntervalMs`. */
  readonly log: Logger;
  /** The clock, in epoch milliseconds; default `Date.now`. */
  readonly now?: () => number;
  /** Circuit breaker; default 5 consecutive failures open it for 5 s. */
  readonly breaker?: Partial<BreakerOptions>;
  /** Most blocked clients remembered; default 10 000. */
  readonly maxBlockedCache?: number;
  /** Most clients in the per-instance fallback limiter; default 10 000. */
  readonly fallbackMaxEntries?: number;
  /** At most one failure summary line per this many ms; default 10 000. */
  readonly logIntervalMs?: number;
}

/** Counters since start, for metrics. */
export interface ResilientStoreStats {
  /** Requests the store allowed. */
  readonly allowed: number;
  /** Requests the store rejected (`limited` or `blocked`). */
  readonly limited: number;
  /** Requests rejected from this instance's memory of blocks, without a store call. */
  readonly cachedBlocked: number;
  /** Requests let through because the store failed or missed its deadline. */
  readonly failedOpen: number;
  /** Requests the per-instance limiter decided while the breaker was open. */
  readonly fallback: number;
  /** Of those, how many it rejected. */
  readonly fallbackLimited: number;
  /** Store calls that failed, timeouts included. */
  readonly failures: number;
  /** Store calls that missed their deadline. */
  readonly timeouts: number;
  readonly breakerState: BreakerState;
}

type Counters = { -readonly [K in keyof Omit<ResilientStoreStats, 'breakerState'>]: number };

/**
 * Wraps a shared store so that rate limiting never takes the gateway down with it:
 *
 * - blocks seen from the store are remembered until they end and answered locally (`local-cache`);
 * - every store call has a deadline; on error or timeout the request is let through
 *   (`failed-open`), counted, and summarised in the log at most once per interval;
 * - after repeated failures a circuit breaker stops calling the store for a cool-down while a
 *   per-instance `MemoryStore` with the same policy decides (`fallback`), then lets one probe
 *   through and closes when it succeeds.
 *
 * @example
 * const store = new ResilientStore(new RedisStore({ url }), { timeoutMs: 50, log });
 */
export class ResilientStore implements RateLimitStore {
  readonly kind: string;
  readonly #inner: RateLimitStore;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #breakerOptions: BreakerOptions;
  readonly #blocks: BlockCache;
  readonly #fallback: MemoryStore;
  readonly #logIntervalMs: number;
  readonly #counters: Counters = {
    allowed: 0,
    limited: 0,
    cachedBlocked: 0,
    failedOpen: 0,
    fallback: 0,
    fallbackLimited: 0,
    failures: 0,
    timeouts: 0,
  };
  #breaker: Breaker = closedBreaker;
  /** Failures not yet reported in a log line, the last of them, and when the last line went out. */
  #unreported = 0;
  #lastError: unknown;
  #lastReportAt = Number.NEGATIVE_INFINITY;

  constructor(inner: RateLimitStore, options: ResilientStoreOptions) {
    if (!(options.timeoutMs > 0)) throw new RangeError('ResilientStore: timeoutMs must be positive');
    this.kind = inner.kind;
    this.#inner = inner;
    this.#timeoutMs = options.timeoutMs;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#breakerOptions = { ...defaultBreakerOptions, ...options.breaker };
    this.#blocks = new BlockCache(options.maxBlockedCache ?? 10_000);
    this.#fallback = new MemoryStore({ maxEntries: options.fallbackMaxEntries ?? 10_000, now: this.#now });
    this.#logIntervalMs = options.logIntervalMs ?? 10_000;
  }

  async decide(clientKey: string, policy: RateLimitPolicy, options: DecideOptions = {}): Promise<StoreDecision> {
    const now = this.#now();
    const cached = this.#blocks.retryAfterMs(clientKey, now);
    if (cached !== undefined) {
      this.#counters.cachedBlocked++;
      return { allowed: false, reason: 'blocked', retryAfterMs: cached, source: 'local-cache' };
    }
    let probe = false;
    if (this.#breaker.state !== 'closed') {
      const next = route(this.#breaker, now);
      this.#breaker = next.breaker;
      if (next.route === 'fallback') return this.#decideLocally(clientKey, policy);
      probe = next.route === 'probe';
    }

    // The inner store's decision within the deadline (and the caller's signal, if any).
    const call = new InnerCall(options);
    try {
      const decision = await call.run(this.#inner, clientKey, policy, this.#timeoutMs);
      call.done();
      this.#recovered();
      if (decision.allowed) {
        this.#counters.allowed++;
      } else {
        this.#counters.limited++;
        // Measured from before the call: never remembered longer than the store holds it.
        this.#blocks.add(clientKey, now + decision.retryAfterMs, this.#now());
      }
      return decision.source === 'store' ? decision : { ...decision, source: 'store' };
    } catch (error) {
      call.done();
      if (options.signal?.aborted) {
        // The caller gave up (client gone): not the store's fault.
        this.#counters.failedOpen++;
        if (probe) this.#breaker = { ...this.#breaker, state: 'open', probeAt: this.#now() };
        return failedOpen(policy);
      }
      this.#failed(error);
      this.#counters.failedOpen++;
      return failedOpen(policy);
    }
  }

  health(): StoreHealth {
    if (this.#breaker.state !== 'closed') {
      return {
        status: 'degraded',
        detail: `${this.kind} store failing (circuit ${this.#breaker.state}); per-instance limiter answering`,
      };
    }
    return this.#inner.health?.() ?? { status: 'ok' };
  }

  stats(): ResilientStoreStats {
    return { ...this.#counters, breakerState: this.#breaker.state };
  }

  async close(): Promise<void> {
    this.#blocks.clear();
    await Promise.all([this.#inner.close(), this.#fallback.close()]);
  }

  #decideLocally(clientKey: string, policy: RateLimitPolicy): StoreDecision {
    const decision = this.#fallback.decideNow(clientKey, policy);
    this.#counters.fallback++;
    if (!decision.allowed) this.#counters.fallbackLimited++;
    return { ...decision, source: 'fallback' };
  }

  #recovered(): void {
    const before = this.#breaker;
    if (before === closedBreaker) return;
    this.#breaker = succeeded(before);
    if (before.state !== 'closed') {
      this.#log.info('store recovered', {
        store: this.kind,
        failuresSinceLastReport: this.#unreported,
        lastError: this.#lastError,
      });
      this.#unreported = 0;
      this.#lastReportAt = this.#now();
    }
  }

  #failed(error: unknown): void {
    const now = this.#now();
    this.#counters.failures++;
    if (error instanceof StoreTimeoutError) this.#counters.timeouts++;
    this.#unreported++;
    this.#lastError = error;
    const before = this.#breaker;
    this.#breaker = failed(before, now, this.#breakerOptions);
    if (before.state === 'closed' && this.#breaker.state === 'open') {
      this.#log.warn('store circuit open; per-instance limiter answering', {
        store: this.kind,
        consecutiveFailures: this.#breaker.failures,
        coolDownMs: this.#breakerOptions.coolDownMs,
        lastError: error,
      });
    }
    if (now - this.#lastReportAt >= this.#logIntervalMs) {
      this.#log.warn('store failing; requests let through', {
        store: this.kind,
        failures: this.#unreported,
        totalFailures: this.#counters.failures,
        lastError: error,
        circuit: this.#breaker.state,
      });
      this.#unreported = 0;
      this.#lastReportAt = now;
    }
  }
}

/**
 * One call to the inner store under a deadline; it is also the `DecideOptions` the inner store
 * gets. Its AbortSignal is made only if the inner store reads it: making one and listening to it
 * costs more CPU than the rest of a Redis decision, and the shared-connection RedisStore never
 * needs it. No closures per call (bundlers that keep function names wrap each one).
 */
class InnerCall implements DecideOptions {
  readonly waitUntil: ((promise: Promise<unknown>) => void) | undefined;
  readonly #caller: AbortSignal | undefined;
  #controller: AbortController | undefined;
  #reject: ((error: Error) => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: DecideOptions) {
    this.waitUntil = options.waitUntil;
    this.#caller = options.signal;
  }

  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  /** The inner store's decision, or a rejection at the deadline or when the caller aborts. */
  run(inner: RateLimitStore, clientKey: string, policy: RateLimitPolicy, timeoutMs: number): Promise<StoreDecision> {
    return new Promise<StoreDecision>((resolve, reject) => {
      this.#reject = reject;
      this.#timer = setTimeout(timeUp, timeoutMs, this, timeoutMs);
      const caller = this.#caller;
      if (caller) {
        if (caller.aborted) return this.abort(abortReason(caller));
        caller.addEventListener('abort', this, { once: true });
      }
      inner.decide(clientKey, policy, this).then(resolve, reject);
    });
  }

  /** Releases the timer and the caller's listener once the call is settled. */
  done(): void {
    clearTimeout(this.#timer);
    this.#caller?.removeEventListener('abort', this);
  }

  abort(error: Error): void {
    this.#controller?.abort(error);
    this.#reject?.(error);
  }

  /** The caller's signal aborted (EventListener object form). */
  handleEvent(event: Event): void {
    this.abort(abortReason(event.target as AbortSignal));
  }
}

function timeUp(call: InnerCall, timeoutMs: number): void {
  call.abort(new StoreTimeoutError(timeoutMs));
}

/**
 * The decision when the store could not decide: let the request through. The store's count is
 * unknown, so the figures are the policy's (a full window).
 */
function failedOpen(policy: RateLimitPolicy): StoreDecision {
  return { allowed: true, remaining: policy.limit, resetMs: policy.windowMs, source: 'failed-open' };
}
