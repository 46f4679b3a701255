// A Redis reply that arrives while the gateway's event loop is held (GraphQL work, a long GC
// pause, CPU throttling) is used once the loop is free again, as ResilientStore's deadline
// intends (src/ratelimit/deadline.ts): the decision stays the store's.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { silentLogger } from '../src/log.js';
import type { Check } from '../src/ratelimit/policy.js';
import { RedisStore } from '../src/ratelimit/redis/redisStore.js';
import { ResilientStore } from '../src/ratelimit/resilientStore.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';

let server: RedisServer;
before(async () => {
  server = await startRedisServer();
});
after(async () => {
  await server.stop();
});

const checks: readonly Check[] = [
  { name: 'cost', limit: { algorithm: 'fixed-window', limit: 1000, windowMs: 60_000, penaltyMs: 0 }, cost: 7 },
];

/** Holds the event loop for `ms`, from the check phase: the timers phase comes before the next poll. */
const holdLoop = (ms: number) =>
  new Promise<void>((resolve) =>
    setImmediate(() => {
      const until = Date.now() + ms;
      while (Date.now() < until) {}
      resolve();
    }),
  );

test('a reply that waited in the socket while the loop was held 1.5 s is used: the decision is the store’s', async () => {
  const store = new ResilientStore(new RedisStore({ url: server.url, keyPrefix: 'stall:' }), { timeoutMs: 5000, log: silentLogger });
  try {
    await store.connect(AbortSignal.timeout(5000));
    const decision = store.decide('203.0.113.9', checks);
    await holdLoop(1500);
    const verdict = await decision;
    assert.equal(verdict.source, 'store', JSON.stringify(verdict));
  } finally {
    await store.close();
  }
});
