/** ResilientStore, the circuit breaker and the block cache, with a scripted inner store and clock. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger } from '../src/log.js';
import { BlockCache } from '../src/ratelimit/blockCache.js';
import { closedBreaker, failed, route, succeeded, type Breaker } from '../src/ratelimit/circuitBreaker.js';
import { defaultPolicy, type Check, type Decision, type RateLimitPolicy } from '../src/ratelimit/policy.js';
import { ResilientStore } from '../src/ratelimit/resilientStore.js';
import { SharedDeadlineTimer, StoreCall } from '../src/ratelimit/storeCall.js';
import type { DecideOptions, RateLimitStore, StoreVerdict } from '../src/ratelimit/store.js';
import { decideOne } from './support/decide-one.js';

/** An inner store whose answers the test scripts, recording every call. */
class ScriptedStore implements RateLimitStore {
  readonly kind = 'scripted';
  readonly calls: { clientKey: string; signal?: AbortSignal }[] = [];
  answer: (clientKey: string, policy: RateLimitPolicy, options: DecideOptions) => Promise<Decision> = async () => ({
    allowed: true,
    remaining: 1,
    resetMs: 1000,
  });
  closed = false;
  async decide(clientKey: string, checks: readonly Check[], options: DecideOptions = {}): Promise<StoreVerdict> {
    this.calls.push({ clientKey, signal: options.signal });
    return { decisions: [await this.answer(clientKey, checks[0]!.limit as RateLimitPolicy, options)] };
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const failing = async (): Promise<Decision> => {
  throw new Error('ECONNREFUSED');
};

function setup(options: { timeoutMs?: number; coolDownMs?: number; maxBlockedCache?: number; failureThreshold?: number } = {}) {
  let clock = 1_000_000;
  const lines: Record<string, unknown>[] = [];
  const inner = new ScriptedStore();
  const store = new ResilientStore(inner, {
    timeoutMs: options.timeoutMs ?? 50,
    log: createLogger('debug', (line) => lines.push(JSON.parse(line) as Record<string, unknown>)),
    now: () => clock,
    breaker: { failureThreshold: options.failureThreshold ?? 5, coolDownMs: options.coolDownMs ?? 5000 },
    maxBlockedCache: options.maxBlockedCache,
    logIntervalMs: 10_000,
  });
  return { store, inner, lines, advance: (ms: number) => (clock += ms), now: () => clock };
}

describe('circuit breaker transitions', () => {
  const options = { failureThreshold: 3, coolDownMs: 1000 };
  test('opens after the threshold, probes once after the cool-down, closes on success', () => {
    let b: Breaker = closedBreaker;
    b = failed(b, 0, options);
    b = failed(b, 0, options);
    assert.equal(route(b, 0).route, 'call');
    b = failed(b, 10, options);
    assert.deepEqual(b, { state: 'open', failures: 3, probeAt: 1010 });
    assert.equal(route(b, 1009).route, 'fallback');
    const probe = route(b, 1010);
    assert.equal(probe.route, 'probe');
    b = probe.breaker;
    assert.equal(b.state, 'half-open');
    assert.equal(route(b, 1011).route, 'fallback', 'one probe at a time');
    assert.deepEqual(failed(b, 1020, options), { state: 'open', failures: 3, probeAt: 2020 });
    assert.equal(succeeded(b), closedBreaker);
  });
  test('a success while closed resets the count of consecutive failures', () => {
    let b = failed(failed(closedBreaker, 0, options), 0, options);
    b = succeeded(b);
    b = failed(b, 0, options);
    assert.equal(b.state, 'closed');
  });
});

/** Milliseconds left of a remembered block, or undefined. */
function retryAfter(cache: BlockCache, clientKey: string, now: number): number | undefined {
  const block = cache.lookup(clientKey, now);
  return block && block.until - now;
}

describe('BlockCache', () => {
  test('answers until the block ends, then forgets', () => {
    const cache = new BlockCache(10);
    cache.add('a', 1040, 1000);
    assert.equal(retryAfter(cache, 'a', 1000), 40);
    assert.equal(retryAfter(cache, 'a', 1039), 1);
    assert.equal(retryAfter(cache, 'a', 1040), undefined);
    assert.equal(cache.size, 0);
  });
  test('bounded: never more than maxEntries; ended entries swept as new ones arrive', () => {
    const cache = new BlockCache(100);
    for (let i = 0; i < 1000; i++) {
      cache.add(`live-${i}`, 10_000, 0);
      assert.ok(cache.size <= 100);
    }
    assert.equal(retryAfter(cache, 'live-999', 0), 10_000, 'the newest is kept');
    // Everything has ended: new blocks sweep the ended ones, a few per insert.
    for (let i = 0; i < 60; i++) cache.add(`later-${i}`, 30_000, 20_000);
    assert.ok(cache.size < 100, `${cache.size}`);
    for (let i = 0; i < 60; i++) assert.equal(retryAfter(cache, `later-${i}`, 20_000), 10_000);
  });

  // Its cost per insert is measured in bench/inserts.ts.
  test('a flood of distinct blocked clients stays at the bound', () => {
    const cache = new BlockCache(10_000);
    for (let i = 0; i < 200_000; i++) cache.add(`c${i}`, 40_000 + i, i / 10);
    assert.equal(cache.size, 10_000);
  });
});

describe('ResilientStore', () => {
  test('remembers blocks and answers them without calling the store', async () => {
    const { store, inner, advance } = setup();
    inner.answer = async () => ({ allowed: false, reason: 'limited', retryAfterMs: 40_000 });
    assert.deepEqual(await decideOne(store, 'c', defaultPolicy), {
      allowed: false,
      reason: 'limited',
      retryAfterMs: 40_000,
      source: 'store',
    });
    advance(10_000);
    assert.deepEqual(await decideOne(store, 'c', defaultPolicy), {
      allowed: false,
      reason: 'blocked',
      retryAfterMs: 30_000,
      source: 'local-cache',
    });
    advance(29_999);
    assert.deepEqual(await decideOne(store, 'c', defaultPolicy), {
      allowed: false,
      reason: 'blocked',
      retryAfterMs: 1,
      source: 'local-cache',
    });
    assert.equal(inner.calls.length, 1);
    advance(1);
    inner.answer = async () => ({ allowed: true, remaining: 49, resetMs: 60_000 });
    assert.equal((await decideOne(store, 'c', defaultPolicy)).source, 'store');
    assert.equal(inner.calls.length, 2);
    assert.deepEqual(store.stats(), {
      allowed: 1,
      limited: 1,
      cachedBlocked: 2,
      failedOpen: 0,
      failedOpenTimeout: 0,
      failedOpenError: 0,
      failedOpenAborted: 0,
      fallback: 0,
      fallbackLimited: 0,
      failures: 0,
      refundFailures: 0,
      timeouts: 0,
      lateReplies: 0,
      breakerState: 'closed',
    });
  });

  test('the block cache is bounded', async () => {
    const { store, inner } = setup({ maxBlockedCache: 2 });
    inner.answer = async () => ({ allowed: false, reason: 'blocked', retryAfterMs: 40_000 });
    for (const key of ['a', 'b', 'c']) await decideOne(store, key, defaultPolicy);
    assert.equal((await decideOne(store, 'c', defaultPolicy)).source, 'local-cache');
    const sources = [(await decideOne(store, 'a', defaultPolicy)).source, (await decideOne(store, 'b', defaultPolicy)).source];
    assert.ok(sources.includes('store'), `one of a, b was dropped: ${sources.join()}`);
  });

  test('a store that never answers: fails open at the deadline and is told to stop (signal)', async () => {
    const { store, inner } = setup({ timeoutMs: 30 });
    inner.answer = () => new Promise<never>(() => {});
    const started = performance.now();
    const decision = await decideOne(store, 'slow', defaultPolicy);
    const elapsed = performance.now() - started;
    assert.deepEqual(decision, { allowed: true, remaining: 50, resetMs: 60_000, source: 'failed-open', cause: 'timeout' });
    assert.ok(elapsed >= 25 && elapsed < 200, `${elapsed} ms`);
    assert.equal(inner.calls[0]!.signal?.aborted, true);
    assert.equal(store.stats().timeouts, 1);
  });

  test('the caller’s signal aborts the store call too, without counting against the store', async () => {
    const { store, inner } = setup({ timeoutMs: 5000 });
    inner.answer = () => new Promise<never>(() => {});
    const controller = new AbortController();
    const pending = decideOne(store, 'gone', defaultPolicy, { signal: controller.signal });
    controller.abort();
    assert.deepEqual(await pending, { allowed: true, remaining: 50, resetMs: 60_000, source: 'failed-open', cause: 'aborted' });
    assert.equal(inner.calls[0]!.signal?.aborted, true);
    assert.equal(store.stats().failures, 0);
    assert.equal(store.stats().failedOpenAborted, 1);
  });

  test('breaker: 5 failures open it, the fallback limiter enforces the policy, a probe closes it', async () => {
    const { store, inner, lines, advance } = setup({ coolDownMs: 5000 });
    inner.answer = failing;
    for (let i = 0; i < 5; i++) assert.equal((await decideOne(store, `f${i}`, defaultPolicy)).source, 'failed-open');
    assert.equal(store.stats().breakerState, 'open');
    assert.equal(store.health().status, 'degraded');
    const callsWhenOpen = inner.calls.length;
    for (let i = 1; i <= 50; i++) {
      const decision = await decideOne(store, 'flood', defaultPolicy);
      assert.deepEqual(decision, { allowed: true, remaining: 50 - i, resetMs: 60_000, source: 'fallback' });
    }
    assert.deepEqual(await decideOne(store, 'flood', defaultPolicy), {
      allowed: false,
      reason: 'limited',
      retryAfterMs: 40_000,
      source: 'fallback',
    });
    assert.equal(inner.calls.length, callsWhenOpen, 'the store is left alone while open');

    // Cool-down over: one probe, which fails: open again.
    advance(5000);
    assert.equal((await decideOne(store, 'p', defaultPolicy)).source, 'failed-open');
    assert.equal(inner.calls.length, callsWhenOpen + 1);
    assert.equal(store.stats().breakerState, 'open');
    assert.equal((await decideOne(store, 'p', defaultPolicy)).source, 'fallback');

    // Next probe succeeds: closed, logged once.
    advance(5000);
    inner.answer = async () => ({ allowed: true, remaining: 49, resetMs: 60_000 });
    assert.equal((await decideOne(store, 'p', defaultPolicy)).source, 'store');
    assert.equal(store.stats().breakerState, 'closed');
    assert.deepEqual(store.health(), { status: 'ok' });
    assert.equal(lines.filter((l) => l.msg === 'store recovered').length, 1);
    const stats = store.stats();
    assert.equal(stats.fallback, 52);
    assert.equal(stats.fallbackLimited, 1);
    assert.equal(stats.failedOpen, 6);
    assert.equal(stats.failedOpenError, 6, 'every one of them for the store’s error');
  });

  test('a probe in flight: everyone else uses the fallback meanwhile', async () => {
    const { store, inner, advance } = setup({ coolDownMs: 1000, timeoutMs: 1000 });
    inner.answer = failing;
    for (let i = 0; i < 5; i++) await decideOne(store, 'x', defaultPolicy);
    advance(1000);
    let release!: () => void;
    inner.answer = () => new Promise((resolve) => (release = () => resolve({ allowed: true, remaining: 1, resetMs: 1 })));
    const probe = decideOne(store, 'x', defaultPolicy);
    assert.equal(store.stats().breakerState, 'half-open');
    assert.equal(store.health().status, 'degraded');
    assert.equal((await decideOne(store, 'y', defaultPolicy)).source, 'fallback');
    release();
    assert.equal((await probe).source, 'store');
    assert.equal(store.stats().breakerState, 'closed');
  });

  test('failures are logged at most once per interval, as a summary', async () => {
    const { store, inner, lines, advance } = setup({ coolDownMs: 1 });
    inner.answer = failing;
    for (let i = 0; i < 200; i++) {
      await decideOne(store, `k${i}`, defaultPolicy);
      advance(10); // 2 s in all: the breaker keeps probing and failing
    }
    const summaries = lines.filter((l) => l.msg === 'store failing; requests let through');
    assert.equal(summaries.length, 1);
    assert.equal(lines.filter((l) => l.msg === 'store circuit open; per-instance limiter answering').length, 1);
    assert.deepEqual(summaries[0]!.lastError, { name: 'Error', message: 'ECONNREFUSED' });
    assert.deepEqual(summaries[0]!.failedOpen, { timeout: 0, error: 1 }, 'the summary says why requests were let through');
    advance(10_000);
    await decideOne(store, 'later', defaultPolicy);
    const later = lines.filter((l) => l.msg === 'store failing; requests let through');
    assert.equal(later.length, 2);
    assert.ok((later[1]!.failures as number) > 1, 'the second line counts the failures since the first');
  });

  test('health is degraded until the store has answered once, by connect or by a decision', async () => {
    const { store, inner } = setup();
    assert.equal(store.health().status, 'degraded');
    await store.connect();
    assert.equal(store.health().status, 'degraded', 'an inner store without connect has not answered');
    assert.equal((await decideOne(store, 'first', defaultPolicy)).source, 'store');
    assert.deepEqual(store.health(), { status: 'ok' });

    const connecting = setup();
    let connected = 0;
    Object.assign(connecting.inner, { connect: async () => void connected++ });
    await connecting.store.connect();
    assert.equal(connected, 1);
    assert.deepEqual(connecting.store.health(), { status: 'ok' });
    assert.equal(inner.calls.length, 1);
  });

  test('close closes the inner store', async () => {
    const { store, inner } = setup();
    await store.close();
    assert.equal(inner.closed, true);
  });
});

describe('the shared deadline timer (Node): one timer for every pending call', () => {
  const silent = () => new Promise<never>(() => {});

  test('calls started a few ms apart each fail open one deadline after their own start, never sooner', async () => {
    // A breaker that never opens here: every call is the store's, however the gaps stretch.
    const { store, inner } = setup({ timeoutMs: 40, failureThreshold: 100 });
    inner.answer = silent;
    const pending: Promise<number>[] = [];
    for (const busyMs of [0, 3, 2, 0, 2, 1, 4]) {
      await new Promise((resolve) => setTimeout(resolve, 3));
      const busyUntil = performance.now() + busyMs;
      while (performance.now() < busyUntil) {
        // A few ms apart, so calls land at different points between the timer's runs.
      }
      const started = performance.now();
      pending.push(
        decideOne(store, `silent-${pending.length}`, defaultPolicy).then((decision) => {
          assert.equal(decision.source, 'failed-open');
          return performance.now() - started;
        }),
      );
    }
    for (const elapsed of await Promise.all(pending)) {
      assert.ok(elapsed >= 39, `failed open after ${elapsed.toFixed(1)} ms, before its 40 ms deadline`);
      assert.ok(elapsed < 40 + 150, `failed open after ${elapsed.toFixed(1)} ms`);
    }
    assert.equal(store.stats().timeouts, 7);
  });

  test("a slow call at the front of the queue, 2,000 quick ones behind it: it still times out, they are the store's", async () => {
    const { store, inner } = setup({ timeoutMs: 30 });
    let slow = true;
    inner.answer = () => {
      if (!slow) return Promise.resolve({ allowed: true, remaining: 1, resetMs: 1000 });
      slow = false;
      return silent();
    };
    const first = decideOne(store, 'slow', defaultPolicy);
    for (let i = 0; i < 2000; i++) assert.equal((await decideOne(store, `quick-${i}`, defaultPolicy)).source, 'store');
    assert.equal((await first).source, 'failed-open');
    assert.equal(store.stats().timeouts, 1);
    assert.equal(store.stats().failedOpen, 1);
  });

  test('per-call timers (Workers) keep the same deadline', async () => {
    const inner = new ScriptedStore();
    inner.answer = silent;
    const store = new ResilientStore(inner, { timeoutMs: 30, deadlineTimer: 'per-call', log: createLogger('error', () => {}) });
    const started = performance.now();
    const decision = await decideOne(store, 'silent', defaultPolicy);
    const elapsed = performance.now() - started;
    assert.equal(decision.source, 'failed-open');
    assert.ok(elapsed >= 29 && elapsed < 200, `${elapsed} ms`);
  });
});

describe('SharedDeadlineTimer', () => {
  test('its queue holds about the calls in flight: answered calls leave it from the front', async () => {
    const timer = new SharedDeadlineTimer(() => performance.now());
    const store = new ScriptedStore();
    const deadline = { timeoutMs: 5_000, lagToleranceMs: 10, maxWaitMs: 5_000 };
    const checks: Check[] = [{ name: 'default', limit: defaultPolicy, cost: 1 }];
    for (let i = 0; i < 5_000; i++) {
      const call = new StoreCall({}, deadline, () => performance.now(), timer);
      await call.run(store, `k${i}`, checks);
      call.done();
    }
    assert.ok(timer.size <= 1, `${timer.size} calls still queued`);
    timer.clear();
    assert.equal(timer.size, 0);
  });

  test('closing the store ends the calls still pending: they fail open at once', async () => {
    const inner = new ScriptedStore();
    inner.answer = () => new Promise<never>(() => {});
    const store = new ResilientStore(inner, { timeoutMs: 60_000, log: createLogger('error', () => {}) });
    const pending = decideOne(store, 'left', defaultPolicy);
    await new Promise((resolve) => setImmediate(resolve));
    await store.close();
    assert.equal((await pending).source, 'failed-open');
  });
});
