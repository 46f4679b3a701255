import type { Logger } from '../log.js';
import { abortable, StoreTimeoutError } from './abort.js';
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
import { defaultLagToleranceMs, defaultMaxWaitMs, type DeadlineOptions } from './deadline.js';
import { MemoryStore } from './memoryStore.js';
import type { Check, Decision, Refund } from './policy.js';
import { failedOpen } from './result.js';
import { SharedDeadlineTimer, StoreCall } from './storeCall.js';
import type { DecideOptions, FailOpenCause, RateLimitStore, RefundOptions, StoreAnswers, StoreHealth, StoreVerdict } from './store.js';

export interface ResilientStoreOptions {
  /** Deadline of every call to the inner store (`RATE_LIMIT_TIMEOUT_MS`); what it measures: deadline.ts. */
  readonly timeoutMs: number;
  /** A deadline timer this late means the event loop, not the store, was slow; default 10 ms. */
  readonly lagToleranceMs?: number;
  /** However busy the gateway, a call fails open this long after it started; default 5000 ms. */
  readonly maxWaitMs?: number;
  /**
   * The calls' deadline timers: `shared`, one for every pending call (the default, Node), or
   * `per-call` (Workers, where a timer belongs to the request that set it and ends with it).
   */
  readonly deadlineTimer?: 'shared' | 'per-call';
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
  /** Requests the store rejected (an enforced policy `limited` or `blocked` them). */
  readonly limited: number;
  /** Requests rejected from this instance's memory of blocks, without a store call. */
  readonly cachedBlocked: number;
  /** Requests let through without the store's decision (the three causes below together). */
  readonly failedOpen: number;
  /** … because the store did not answer within its deadline. */
  readonly failedOpenTimeout: number;
  /** … because the store answered with an error or could not be reached. */
  readonly failedOpenError: number;
  /** … because the caller gave up first (not counted against the store). */
  readonly failedOpenAborted: number;
  /** Requests the per-instance limiter decided while the breaker was open. */
  readonly fallback: number;
  /** Of those, how many it rejected. */
  readonly fallbackLimited: number;
  /** Store calls that failed, timeouts included. */
  readonly failures: number;
  /** Refunds the store failed (or missed the deadline) to apply: given up, never retried. */
  readonly refundFailures: number;
  /** Store calls that missed their deadline. */
  readonly timeouts: number;
  /**
   * Store replies used although the deadline's timer had fired first: the event loop was busy
   * past the deadline (a busy gateway, not a slow store).
   */
  readonly lateReplies: number;
  readonly breakerState: BreakerState;
}

type Counters = { -readonly [K in keyof Omit<ResilientStoreStats, 'breakerState'>]: number };

/**
 * Wraps a shared store so that rate limiting never takes the gateway down with it:
 *
 * - blocks seen from the store are remembered until they end and answered locally (`local-cache`);
 * - every store call has a deadline, measured as deadline.ts says (the store's time, not the
 *   gateway's own lag); on error or timeout the request is let through (`failed-open`, with its
 *   cause), counted, and summarised in the log at most once per interval;
 * - after repeated store failures a circuit breaker stops calling the store for a cool-down while
 *   a per-instance `MemoryStore` with the same policy decides (`fallback`), then lets one probe
 *   through and closes when it succeeds;
 * - until the store has answered once (`connect` or a decision), its health is `degraded`.
 *
 * @example
 * const store = new ResilientStore(new RedisStore({ url }), { timeoutMs: 50, log });
 * await store.connect(AbortSignal.timeout(5000));
 */
export class ResilientStore implements RateLimitStore {
  readonly kind: string;
  readonly answers: StoreAnswers;
  readonly #inner: RateLimitStore;
  readonly #deadline: DeadlineOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #breakerOptions: BreakerOptions;
  readonly #blocks: BlockCache;
  readonly #fallback: MemoryStore;
  readonly #logIntervalMs: number;
  readonly #timer: SharedDeadlineTimer | undefined;
  readonly #counters: Counters = {
    allowed: 0,
    limited: 0,
    cachedBlocked: 0,
    failedOpen: 0,
    failedOpenTimeout: 0,
    failedOpenError: 0,
    refundFailures: 0,
    failedOpenAborted: 0,
    fallback: 0,
    fallbackLimited: 0,
    failures: 0,
    timeouts: 0,
    lateReplies: 0,
  };
  #breaker: Breaker = closedBreaker;
  /** Whether the store has answered at least once. */
  #answered = false;
  /** Failures not yet reported in a log line, the last of them, and when the last line went out. */
  #unreported = 0;
  #lastError: unknown;
  #lastReportAt = Number.NEGATIVE_INFINITY;
  /** Late replies not yet reported, the longest lag among them, and when the last line went out. */
  #unreportedLate = 0;
  #unreportedLagMs = 0;
  #lastLateReportAt = Number.NEGATIVE_INFINITY;

  constructor(inner: RateLimitStore, options: ResilientStoreOptions) {
    if (!(options.timeoutMs > 0)) throw new RangeError('ResilientStore: timeoutMs must be positive');
    this.kind = inner.kind;
    this.answers = inner.answers ?? 'counts';
    this.#inner = inner;
    this.#deadline = {
      timeoutMs: options.timeoutMs,
      lagToleranceMs: options.lagToleranceMs ?? defaultLagToleranceMs,
      maxWaitMs: options.maxWaitMs ?? defaultMaxWaitMs,
    };
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#breakerOptions = { ...defaultBreakerOptions, ...options.breaker };
    this.#blocks = new BlockCache(options.maxBlockedCache ?? 10_000);
    this.#fallback = new MemoryStore({ maxEntries: options.fallbackMaxEntries ?? 10_000, now: this.#now });
    this.#logIntervalMs = options.logIntervalMs ?? 10_000;
    this.#timer = options.deadlineTimer === 'per-call' ? undefined : new SharedDeadlineTimer(monotonicNow);
  }

  async decide(clientKey: string, checks: readonly Check[], options: DecideOptions = {}): Promise<StoreVerdict> {
    const now = this.#now();
    const known = this.#blocks.lookup(clientKey, now);
    if (known !== undefined) {
      const index = checks.findIndex((check) => check.name === known.policy && !check.shadow);
      if (index >= 0) {
        this.#counters.cachedBlocked++;
        const blocked: Decision = { allowed: false, reason: 'blocked', retryAfterMs: known.until - now };
        return { decisions: checks.map((_, i) => (i === index ? blocked : undefined)), source: 'local-cache' };
      }
    }
    let probe = false;
    if (this.#breaker.state !== 'closed') {
      const next = route(this.#breaker, now);
      this.#breaker = next.breaker;
      if (next.route === 'fallback') return this.#decideLocally(clientKey, checks);
      probe = next.route === 'probe';
    }

    // The inner store's decision within the deadline (and the caller's signal, if any).
    const call = new StoreCall(options, this.#deadline, monotonicNow, this.#timer);
    try {
      const verdict = await call.run(this.#inner, clientKey, checks);
      call.done();
      if (call.late) this.#lateReply(call.lagMs);
      this.#recovered();
      const block = rememberedBlock(checks, verdict.decisions);
      if (block === undefined) {
        this.#counters.allowed++;
      } else {
        this.#counters.limited++;
        // Measured from before the call: never remembered longer than the store holds it. A
        // yes/no store's retry-after is only a bound: remembering it would reject past its answer.
        if (block.index >= 0 && this.answers === 'counts')
          this.#blocks.add(clientKey, now + block.retryAfterMs, this.#now(), checks[block.index]!.name);
      }
      return verdict.source === 'store' ? verdict : { decisions: verdict.decisions, source: 'store' };
    } catch (error) {
      call.done();
      if (options.signal?.aborted) {
        // The caller gave up (client gone): not the store's fault.
        if (probe) this.#breaker = { ...this.#breaker, state: 'open', probeAt: this.#now() };
        return this.#failedOpen(checks, 'aborted');
      }
      const verdict = this.#failedOpen(checks, error instanceof StoreTimeoutError ? 'timeout' : 'error');
      this.#failed(error);
      return verdict;
    }
  }

  /**
   * Gives back to the store that charged (`chargedBy`): the inner store, or the per-instance
   * limiter that decided while the breaker was open. Off the request's path, so under the longest
   * wait a decision may have (`maxWaitMs`), not its deadline: a busy event loop must not count an
   * applied refund as failed. A refund that fails is counted and given up; it never moves the
   * breaker (decisions do that).
   */
  async refund(clientKey: string, refunds: readonly Refund[], options: RefundOptions = {}): Promise<void> {
    if (options.chargedBy === 'fallback') {
      this.#fallback.refundNow(clientKey, refunds);
      return;
    }
    if (!this.#inner.refund) return;
    // Off the request's path: an AbortSignal per refund costs nothing that matters here.
    const signal = AbortSignal.timeout(this.#deadline.maxWaitMs);
    try {
      await abortable(this.#inner.refund(clientKey, refunds, { waitUntil: options.waitUntil, signal }), signal);
    } catch (error) {
      this.#counters.refundFailures++;
      this.#log.debug('rate-limit refund failed; given up', { store: this.kind, error });
    }
  }

  /**
   * Connects the inner store (see `RateLimitStore.connect`); its success counts as the store's
   * first answer. Rejects as the inner store does; the breaker is left as it is.
   */
  async connect(signal?: AbortSignal): Promise<void> {
    if (!this.#inner.connect) return;
    await this.#inner.connect(signal);
    this.#answered = true;
  }

  health(): StoreHealth {
    if (this.#breaker.state !== 'closed') {
      return {
        status: 'degraded',
        detail: `${this.kind} store failing (circuit ${this.#breaker.state}); per-instance limiter answering`,
      };
    }
    const inner = this.#inner.health?.() ?? { status: 'ok' };
    if (inner.status === 'ok' && !this.#answered) {
      return { status: 'degraded', detail: `${this.kind} store has not answered yet; requests are let through until it does` };
    }
    return inner;
  }

  stats(): ResilientStoreStats {
    return { ...this.#counters, breakerState: this.#breaker.state };
  }

  async close(): Promise<void> {
    this.#blocks.clear();
    this.#timer?.clear();
    await Promise.all([this.#inner.close(), this.#fallback.close()]);
  }

  #decideLocally(clientKey: string, checks: readonly Check[]): StoreVerdict {
    const decisions = this.#fallback.decideNow(clientKey, checks);
    this.#counters.fallback++;
    if (decisions.some((d, i) => !d.allowed && !checks[i]!.shadow)) this.#counters.fallbackLimited++;
    return { decisions, source: 'fallback' };
  }

  #failedOpen(checks: readonly Check[], cause: FailOpenCause): StoreVerdict {
    this.#counters.failedOpen++;
    if (cause === 'timeout') this.#counters.failedOpenTimeout++;
    else if (cause === 'error') this.#counters.failedOpenError++;
    else this.#counters.failedOpenAborted++;
    return { decisions: checks.map((check) => failedOpen(check.limit)), source: 'failed-open', cause };
  }

  #recovered(): void {
    this.#answered = true;
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

  /**
   * A reply used after the deadline's timer fired: the gateway was busy, the store was not slow.
   * Summarised apart from store failures, so the log tells the two apart.
   */
  #lateReply(lagMs: number): void {
    this.#counters.lateReplies++;
    this.#unreportedLate++;
    this.#unreportedLagMs = Math.max(this.#unreportedLagMs, lagMs);
    const now = this.#now();
    if (now - this.#lastLateReportAt < this.#logIntervalMs) return;
    this.#log.info('event loop busy past the store deadline; the store had answered and its replies were used', {
      store: this.kind,
      lateReplies: this.#unreportedLate,
      maxLagMs: Math.round(this.#unreportedLagMs),
      timeoutMs: this.#deadline.timeoutMs,
    });
    this.#unreportedLate = 0;
    this.#unreportedLagMs = 0;
    this.#lastLateReportAt = now;
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
      const c = this.#counters;
      this.#log.warn('store failing; requests let through', {
        store: this.kind,
        failures: this.#unreported,
        totalFailures: c.failures,
        failedOpen: { timeout: c.failedOpenTimeout, error: c.failedOpenError },
        fallback: c.fallback,
        lastError: error,
        circuit: this.#breaker.state,
      });
      this.#unreported = 0;
      this.#lastReportAt = now;
    }
  }
}

/**
 * Whether an enforced check rejected the request and, if so, the rejection this instance may
 * remember (`index` -1 when none may): the longest retry-after among the rejecting checks that
 * cost 1. Any request of such a check is rejected until then whatever other instances do (they
 * can only spend more); a check that charges a varying cost would let a cheaper request through
 * sooner, so its rejections are not remembered.
 */
function rememberedBlock(
  checks: readonly Check[],
  decisions: readonly (Decision | undefined)[],
): { index: number; retryAfterMs: number } | undefined {
  let rejected = false;
  let index = -1;
  let retryAfterMs = 0;
  for (let i = 0; i < decisions.length; i++) {
    const d = decisions[i];
    const check = checks[i]!;
    if (!d || d.allowed || check.shadow) continue;
    rejected = true;
    if (check.cost === 1 && d.retryAfterMs > retryAfterMs) {
      index = i;
      retryAfterMs = d.retryAfterMs;
    }
  }
  return rejected ? { index, retryAfterMs } : undefined;
}

function monotonicNow(): number {
  return performance.now();
}
