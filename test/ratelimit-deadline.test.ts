/**
 * The store deadline measures the store, not the gateway's own lag (src/ratelimit/deadline.ts):
 * the event loop is blocked synchronously past the deadline while a real Redis's reply is already
 * in the socket, and the reply is used. Deterministic: the block starts right after the check
 * phase, so the next turn runs the expired timer before the poll phase reads the socket.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger } from '../src/log.js';
import { afterExpiry, busyMs, lagMs } from '../src/ratelimit/deadline.js';
import { defaultPolicy } from '../src/ratelimit/policy.js';
import { RedisStore } from '../src/ratelimit/redis/redisStore.js';
import { ResilientStore } from '../src/ratelimit/resilientStore.js';
import { startSilentListener, usePrivateRedis } from './support/redis-server.js';
import { decideOne } from './support/decide-one.js';

const timeoutMs = 50;
/** How long the loop is held: three deadlines. */
const blockMs = 150;

/** Continues right after this turn's check phase: the next phase to run an expired timer is the timers phase. */
const afterCheckPhase = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Holds the event loop for `ms`, as a long stretch of synchronous GraphQL work would. */
function blockLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

function logSink(): { lines: Record<string, unknown>[]; log: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: createLogger('info', (line) => lines.push(JSON.parse(line) as Record<string, unknown>)) };
}

describe('deadline policy', () => {
  const options = { timeoutMs: 50, lagToleranceMs: 10, maxWaitMs: 5000 };
  const expiry = (firedAt: number, judgedAt = firedAt) => ({ startedAt: 950, dueAt: 1000, firedAt, judgedAt });
  test('a timer on time, and the turn after it prompt, means the store had its deadline: fail', () => {
    assert.equal(afterExpiry(expiry(1001), options), 'fail');
    assert.equal(afterExpiry(expiry(1010, 1020), options), 'fail');
  });
  test('a timer held late, or a turn after it that came late: another deadline, as long as they are busy', () => {
    assert.equal(afterExpiry(expiry(1011), options), 'extend');
    assert.equal(afterExpiry(expiry(1001, 1012), options), 'extend', 'workerd: the timer on time, the isolate busy after it');
    assert.equal(afterExpiry({ startedAt: 950, dueAt: 1500, firedAt: 1900, judgedAt: 2600 }, options), 'extend');
  });
  test('however busy the process, a call fails once maxWaitMs has passed since it started', () => {
    assert.equal(afterExpiry({ startedAt: 0, dueAt: 4940, firedAt: 4990, judgedAt: 4999 }, options), 'extend');
    assert.equal(afterExpiry({ startedAt: 0, dueAt: 4950, firedAt: 5000, judgedAt: 5000 }, options), 'fail');
  });
  test("busy is the longer of the timer's lag and the wait for the turn after it", () => {
    assert.equal(busyMs({ dueAt: 1000, firedAt: 1030, judgedAt: 1035 }), 30);
    assert.equal(busyMs({ dueAt: 1000, firedAt: 1000, judgedAt: 1700 }), 700);
  });
  test('lag is how late the timer ran, never negative', () => {
    assert.equal(lagMs({ dueAt: 1000, firedAt: 1150 }), 150);
    assert.equal(lagMs({ dueAt: 1000, firedAt: 999 }), 0);
  });
});

describe('a blocked event loop and a healthy Redis', () => {
  const redis = usePrivateRedis();

  test('the mechanism: after a block, an expired timer runs before the reply already in the socket is read', async () => {
    await redis.admin.ping();
    await afterCheckPhase();
    const order: string[] = [];
    const reply = redis.admin.ping().then(() => order.push('reply'));
    setTimeout(() => order.push('timer'), timeoutMs);
    blockLoop(blockMs);
    await reply;
    assert.deepEqual(order, ['timer', 'reply']);
  });

  test('the reply that arrived during the block is used: no fail-open, no breaker, counted as late', async () => {
    const { lines, log } = logSink();
    const store = new ResilientStore(new RedisStore({ url: redis.server.url, keyPrefix: 'blocked:' }), {
      timeoutMs,
      log,
      breaker: { failureThreshold: 5, coolDownMs: 5000 },
    });
    try {
      await store.connect(AbortSignal.timeout(5000));
      // More blocked decisions than the breaker's threshold: a bare timer race would have opened it.
      for (let i = 1; i <= 8; i++) {
        await afterCheckPhase();
        const pending = decideOne(store, 'client', defaultPolicy);
        blockLoop(blockMs);
        const decision = await pending;
        assert.deepEqual(
          { source: decision.source, remaining: decision.allowed ? decision.remaining : undefined },
          { source: 'store', remaining: 50 - i },
          `decision ${i}`,
        );
      }
      const stats = store.stats();
      assert.deepEqual(
        {
          failedOpen: stats.failedOpen,
          failures: stats.failures,
          timeouts: stats.timeouts,
          lateReplies: stats.lateReplies,
          breaker: stats.breakerState,
        },
        { failedOpen: 0, failures: 0, timeouts: 0, lateReplies: 8, breaker: 'closed' },
      );
      const busy = lines.filter((l) => String(l.msg).startsWith('event loop busy past the store deadline'));
      assert.equal(busy.length, 1, 'summarised once per interval');
      assert.ok((busy[0]!.maxLagMs as number) >= blockMs - timeoutMs - 5, JSON.stringify(busy[0]));
      assert.equal(lines.filter((l) => l.level === 'warn').length, 0, 'no store failure was logged');
    } finally {
      await store.close();
    }
  });

  test('a call that needs a second round trip after the block (NOSCRIPT, then EVAL) gets another deadline and is used', async () => {
    const store = new ResilientStore(new RedisStore({ url: redis.server.url, keyPrefix: 'noscript:' }), { timeoutMs, log: logSink().log });
    try {
      await store.connect(AbortSignal.timeout(5000));
      await redis.admin.script('FLUSH');
      await afterCheckPhase();
      const pending = decideOne(store, 'client', defaultPolicy);
      blockLoop(blockMs);
      const decision = await pending;
      assert.equal(decision.source, 'store');
      assert.equal(decision.allowed, true);
      assert.deepEqual([store.stats().failedOpen, store.stats().lateReplies], [0, 1]);
    } finally {
      await store.close();
    }
  });
});

describe('a silent store after a blocked loop', () => {
  test('still fails open, as a timeout, one deadline after the loop is free again', async (t) => {
    const listener = await startSilentListener();
    const store = new ResilientStore(new RedisStore({ url: listener.url }), { timeoutMs, log: logSink().log });
    try {
      await afterCheckPhase();
      const started = performance.now();
      const pending = decideOne(store, 'client', defaultPolicy);
      blockLoop(blockMs);
      const decision = await pending;
      const ms = performance.now() - started;
      t.diagnostic(`failed open after ${ms.toFixed(1)} ms (block ${blockMs} + deadline ${timeoutMs})`);
      assert.deepEqual(decision, { allowed: true, remaining: 50, resetMs: 60_000, source: 'failed-open', cause: 'timeout' });
      assert.ok(ms >= blockMs + timeoutMs, `${ms.toFixed(1)} ms: the extra deadline was given with the loop free`);
      assert.equal(store.stats().timeouts, 1);
    } finally {
      await store.close();
      await listener.close();
    }
  });
});
