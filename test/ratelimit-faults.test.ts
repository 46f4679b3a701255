/**
 * Faults with real sockets: a private redis-server killed mid-run and restarted, and a listener
 * that accepts connections and never answers. ResilientStore + RedisStore, deadline 50 ms.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger } from '../src/log.js';
import { defaultPolicy } from '../src/ratelimit/policy.js';
import { RedisStore } from '../src/ratelimit/redis/redisStore.js';
import { ResilientStore } from '../src/ratelimit/resilientStore.js';
import { decideOne, type StoreDecision } from './support/decide-one.js';
import { startRedisServer, startSilentListener, type RedisServer } from './support/redis-server.js';

const timeoutMs = 50;
/** Generous: a loaded CI machine, timers firing late. */
const marginMs = 500;
const coolDownMs = 1000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function timed(decide: () => Promise<StoreDecision>): Promise<{ decision: StoreDecision; ms: number }> {
  const started = performance.now();
  const decision = await decide();
  return { decision, ms: performance.now() - started };
}

function logSink(): { lines: Record<string, unknown>[]; log: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: createLogger('info', (line) => lines.push(JSON.parse(line) as Record<string, unknown>)) };
}

describe('redis-server killed mid-run, then restarted', () => {
  for (const connectionPerRequest of [false, true]) {
    test(`fails open in bounded time, falls back, recovers (connectionPerRequest: ${connectionPerRequest})`, async (t) => {
      const server: RedisServer = await startRedisServer();
      const { lines, log } = logSink();
      const store = new ResilientStore(new RedisStore({ url: server.url, connectionPerRequest }), {
        timeoutMs,
        log,
        breaker: { failureThreshold: 5, coolDownMs },
      });
      try {
        for (let i = 0; i < 10; i++) assert.equal((await decideOne(store, 'before', defaultPolicy)).source, 'store');

        // Decisions keep flowing (20 in flight at a time) while the server is killed.
        const results: { decision: StoreDecision; ms: number }[] = [];
        let stop = false;
        let n = 0;
        const load = (async () => {
          while (!stop) {
            const batch = await Promise.all(Array.from({ length: 20 }, () => timed(() => decideOne(store, `load-${n++}`, defaultPolicy))));
            results.push(...batch);
            await sleep(5);
          }
        })();
        await sleep(50);
        await server.kill('SIGKILL');
        await sleep(300);
        stop = true;
        await load;

        const slowest = Math.max(...results.map((r) => r.ms));
        t.diagnostic(`${results.length} decisions while killing: slowest ${slowest.toFixed(1)} ms, ${JSON.stringify(store.stats())}`);
        assert.ok(slowest < timeoutMs + marginMs, `slowest decision took ${slowest.toFixed(1)} ms`);
        assert.ok(
          results.every((r) => r.decision.allowed),
          'nobody is rejected for the store’s failure',
        );
        const sources = new Set(results.map((r) => r.decision.source));
        assert.ok(sources.has('failed-open'), [...sources].join());
        assert.ok(sources.has('fallback'), [...sources].join());
        assert.equal(store.stats().breakerState, 'open');
        assert.equal(store.health().status, 'degraded');

        // The per-instance limiter enforces the policy meanwhile.
        for (let i = 1; i <= 50; i++) {
          const { decision, ms } = await timed(() => decideOne(store, 'flood', defaultPolicy));
          assert.ok(ms < timeoutMs + marginMs);
          assert.deepEqual(decision, { ...decision, allowed: true, source: 'fallback' });
        }
        assert.deepEqual(await decideOne(store, 'flood', defaultPolicy), {
          allowed: false,
          reason: 'limited',
          retryAfterMs: 40_000,
          source: 'fallback',
        });

        // Back on the same port: after the cool-down a probe finds it and the store is used again.
        await server.restart();
        const deadline = Date.now() + coolDownMs + 6000;
        let decision: StoreDecision | undefined;
        while (Date.now() < deadline) {
          const result = await timed(() => decideOne(store, 'after', defaultPolicy));
          assert.ok(result.ms < timeoutMs + marginMs, `${result.ms} ms`);
          decision = result.decision;
          if (decision.source === 'store') break;
          await sleep(100);
        }
        assert.equal(decision?.source, 'store');
        t.diagnostic(`store used again ${Date.now() - deadline + coolDownMs + 6000} ms after the restart`);
        assert.deepEqual(decision, { allowed: true, remaining: 49, resetMs: 60_000, source: 'store' });
        assert.equal(store.stats().breakerState, 'closed');
        assert.deepEqual(store.health(), { status: 'ok' });
        assert.equal(lines.filter((l) => l.msg === 'store recovered').length, 1);
        assert.ok(lines.length <= 6, `log lines: ${lines.length}\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
      } finally {
        await store.close();
        await server.stop();
      }
    });
  }
});

describe('a listener that accepts and never answers', () => {
  for (const connectionPerRequest of [false, true]) {
    test(`every decision fails open within the deadline (connectionPerRequest: ${connectionPerRequest})`, async (t) => {
      const listener = await startSilentListener();
      const { log } = logSink();
      const store = new ResilientStore(new RedisStore({ url: listener.url, connectionPerRequest }), {
        timeoutMs,
        log,
        breaker: { failureThreshold: 5, coolDownMs: 200 },
      });
      try {
        const results: { decision: StoreDecision; ms: number }[] = [];
        for (let round = 0; round < 6; round++) {
          results.push(...(await Promise.all(Array.from({ length: 10 }, () => timed(() => decideOne(store, 'c', defaultPolicy))))));
          await sleep(60);
        }
        const slowest = Math.max(...results.map((r) => r.ms));
        t.diagnostic(`${results.length} decisions: slowest ${slowest.toFixed(1)} ms, ${JSON.stringify(store.stats())}`);
        assert.ok(slowest < timeoutMs + marginMs, `slowest ${slowest.toFixed(1)} ms`);
        assert.ok(results.every((r) => r.decision.allowed));
        assert.equal(results[0]!.decision.source, 'failed-open');
        assert.ok(results.every((r) => r.decision.source === 'failed-open' || r.decision.source === 'fallback'));
        assert.ok(store.stats().timeouts >= 5, JSON.stringify(store.stats()));
        assert.ok(listener.accepted >= 1);
      } finally {
        await store.close();
        await listener.close();
      }
    });
  }
});
