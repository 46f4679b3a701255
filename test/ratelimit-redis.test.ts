/**
 * RedisStore against real Redis: the shared one at 127.0.0.1:6379 under a unique key prefix
 * (never flushed), and private redis-servers for what needs counting or flushing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { silentLogger } from '../src/log.js';
import { defaultPolicy, type RateLimitPolicy } from '../src/ratelimit/policy.js';
import { createHash } from 'node:crypto';
import { decideScript, decideScriptSha1, toDecisions } from '../src/ratelimit/redis/decideScript.js';
import { reconnectDelay, redisOptionsFromUrl, RedisStore } from '../src/ratelimit/redis/redisStore.js';
import { ResilientStore } from '../src/ratelimit/resilientStore.js';
import { createStore } from '../src/ratelimit/createStore.js';
import { MemoryStore } from '../src/ratelimit/memoryStore.js';
import { realClock, runPolicyScenario } from './support/ratelimit-scenario.js';
import { assertExactlyLimitAllowed } from './support/redis-exactness.js';
import {
  clientCommands,
  commandStats,
  deleteKeys,
  sharedRedisUrl,
  startRedisServer,
  uniquePrefix,
  usePrivateRedis,
} from './support/redis-server.js';
import { decideOne, defaultKeys } from './support/decide-one.js';

/** Short enough to wait out, long enough for 50 requests on a loaded machine. */
const shortPolicy: RateLimitPolicy = { limit: 50, windowMs: 1500, penaltyMs: 600 };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('decide script helpers', () => {
  test('keys carry one hash tag; braces in a client key cannot end it early', () => {
    assert.deepEqual(defaultKeys('tollgate:', '203.0.113.7'), ['tollgate:{203.0.113.7}:block', 'tollgate:{203.0.113.7}:count']);
    assert.deepEqual(defaultKeys('p:', 'a}b{c%'), ['p:{a%7db%7bc%25}:block', 'p:{a%7db%7bc%25}:count']);
    assert.deepEqual(defaultKeys('p:', ''), ['p:{%}:block', 'p:{%}:count']);
  });

  test('replies map to decisions; anything else throws', () => {
    assert.deepEqual(toDecisions([0, 49, 60000], 1), [{ allowed: true, remaining: 49, resetMs: 60000 }]);
    assert.deepEqual(toDecisions([1, 40000, 0], 1), [{ allowed: false, reason: 'limited', retryAfterMs: 40000 }]);
    assert.deepEqual(toDecisions([2, '1234', '0'], 1), [{ allowed: false, reason: 'blocked', retryAfterMs: 1234 }]);
    assert.deepEqual(toDecisions([0, 1, 2, 1, 5, 0], 2), [
      { allowed: true, remaining: 1, resetMs: 2 },
      { allowed: false, reason: 'limited', retryAfterMs: 5 },
    ]);
    assert.throws(() => toDecisions([0, 1.5, 0], 1), TypeError);
    assert.throws(() => toDecisions(null, 1), TypeError);
    assert.throws(() => toDecisions([3, 0, 0], 1), TypeError);
    assert.throws(() => toDecisions(['x', 1, 2], 1), TypeError);
    assert.throws(() => toDecisions([0, 1, 2], 2), TypeError, 'one decision short');
  });

  test('redis:// and rediss:// URLs with user, password and db', () => {
    assert.deepEqual(redisOptionsFromUrl('redis://:s%40cret@10.0.0.5:6380/2'), {
      host: '10.0.0.5',
      port: 6380,
      password: 's@cret',
      db: 2,
    });
    assert.deepEqual(redisOptionsFromUrl('rediss://default:pw@cache.example.com'), {
      host: 'cache.example.com',
      port: 6379,
      username: 'default',
      password: 'pw',
      tls: { servername: 'cache.example.com' },
    });
    assert.equal(redisOptionsFromUrl('redis://[::1]:7000').host, '::1');
    assert.throws(() => redisOptionsFromUrl('http://x'), /redis:\/\/ or rediss:\/\//);
    assert.throws(() => redisOptionsFromUrl('redis://x/abc'), /invalid database/);
  });

  test('reconnect backoff doubles from 50 ms, is capped at 2 s, and is jittered', () => {
    assert.equal(
      reconnectDelay(1, () => 1),
      50,
    );
    assert.equal(
      reconnectDelay(3, () => 1),
      200,
    );
    assert.equal(
      reconnectDelay(50, () => 1),
      2000,
    );
    assert.equal(
      reconnectDelay(50, () => 0),
      1000,
    );
  });
});

describe('RedisStore on the shared Redis (unique prefix)', () => {
  const prefix = uniquePrefix('redis');
  const stores: RedisStore[] = [];
  let admin: Redis;

  before(async () => {
    admin = new Redis(sharedRedisUrl, { lazyConnect: true });
    await admin.connect();
    for (let i = 0; i < 8; i++) stores.push(new RedisStore({ url: sharedRedisUrl, keyPrefix: prefix }));
  });
  after(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await deleteKeys(admin, prefix);
    await admin.quit();
  });

  test('decideScriptSha1 is the script’s SHA-1, and what Redis calls it', async () => {
    const sha1 = createHash('sha1').update(decideScript).digest('hex');
    assert.equal(decideScriptSha1, sha1, `the script changed: set decideScriptSha1 to '${sha1}'`);
    assert.equal(await admin.script('LOAD', decideScript), decideScriptSha1);
  });

  test('the documented scenario with the real script (window 1.5 s, penalty 0.6 s)', async () => {
    const clientKey = 'scenario-client';
    await runPolicyScenario({
      policy: shortPolicy,
      decide: () => decideOne(stores[0]!, clientKey, shortPolicy),
      ...realClock,
    });
  });

  test('penalty: after the 51st the block key lives ≈ 40 s and the counter is gone', async () => {
    const clientKey = 'penalty-client';
    const [blockKey, countKey] = defaultKeys(prefix, clientKey);
    for (let i = 0; i < 50; i++) assert.equal((await decideOne(stores[0]!, clientKey, defaultPolicy)).allowed, true);
    const counterTtl = await admin.pttl(countKey);
    assert.ok(counterTtl > 59_000 && counterTtl <= 60_000, `counter PTTL ${counterTtl}`);
    const limited = await decideOne(stores[1]!, clientKey, defaultPolicy);
    assert.deepEqual(limited, { allowed: false, reason: 'limited', retryAfterMs: 40_000, source: 'store' });
    const blockTtl = await admin.pttl(blockKey);
    assert.ok(blockTtl > 39_000 && blockTtl <= 40_000, `block PTTL ${blockTtl}`);
    assert.equal(await admin.exists(countKey), 0, 'the counter is deleted');
    await sleep(30);
    const blocked = await decideOne(stores[2]!, clientKey, defaultPolicy);
    assert.ok(!blocked.allowed && blocked.reason === 'blocked');
    assert.ok(blocked.retryAfterMs < 40_000 && blocked.retryAfterMs > 39_000, `${blocked.retryAfterMs}`);
    assert.ok((await admin.pttl(blockKey)) <= blocked.retryAfterMs, 'the block was not extended');
    assert.equal(await admin.exists(countKey), 0, 'a blocked request does not count');
  });

  test('exactness: 200 concurrent decisions over 8 connections → exactly 50 allowed, 20 times', async () => {
    for (let round = 0; round < 20; round++) {
      await assertExactlyLimitAllowed(stores, `exact-${round}`, defaultPolicy, 200);
    }
  });

  test('keys left without an expiry (written by hand): nobody is limited or blocked forever', async () => {
    const clientKey = 'no-expiry';
    const [blockKey, countKey] = defaultKeys(prefix, clientKey);
    await admin.set(countKey, '10');
    const decision = await decideOne(stores[0]!, clientKey, defaultPolicy);
    assert.deepEqual(decision, { allowed: true, remaining: 39, resetMs: 60_000, source: 'store' });
    assert.ok((await admin.pttl(countKey)) > 0, 'the counted window got an expiry');

    // A block key is the script's own: one written from outside while a window is under way (a
    // count above 0, which the script's own blocks delete) is not seen, and stays.
    await admin.set(blockKey, '1');
    assert.equal((await decideOne(stores[0]!, clientKey, defaultPolicy)).allowed, true);
    assert.equal(await admin.exists(blockKey), 1);
    // Once no window is under way it is read, and without an expiry it is deleted.
    await admin.del(countKey);
    assert.equal((await decideOne(stores[0]!, clientKey, defaultPolicy)).allowed, true);
    assert.equal(await admin.exists(blockKey), 0);

    // A count over the limit without an expiry, under a policy without a penalty: rejected, and
    // given the window as its expiry, so the rejection ends with it.
    const noPenalty: RateLimitPolicy = { limit: 5, windowMs: 60_000, penaltyMs: 0 };
    const [, overKey] = defaultKeys(prefix, 'no-expiry-over');
    await admin.set(overKey, '9');
    const rejected = await decideOne(stores[0]!, 'no-expiry-over', noPenalty);
    assert.deepEqual(rejected, { allowed: false, reason: 'limited', retryAfterMs: 60_000, source: 'store' });
    const pttl = await admin.pttl(overKey);
    assert.ok(pttl > 0 && pttl <= 60_000, `PTTL ${pttl}`);
    assert.equal(await admin.get(overKey), '9', 'a rejection counts nothing');
  });

  test('connectionPerRequest: a connection per decision, closed through waitUntil', async () => {
    const perRequest = new RedisStore({ url: sharedRedisUrl, keyPrefix: prefix, connectionPerRequest: true });
    const pending: Promise<unknown>[] = [];
    const waitUntil = (promise: Promise<unknown>): void => void pending.push(promise);
    try {
      const decisions = await Promise.all(
        Array.from({ length: 60 }, () => decideOne(perRequest, 'per-request', defaultPolicy, { waitUntil })),
      );
      assert.equal(decisions.filter((d) => d.allowed).length, 50);
      assert.equal(pending.length, 60, 'every connection handed to waitUntil');
      await Promise.all(pending);
      assert.equal(perRequest.client, undefined);
    } finally {
      await perRequest.close();
    }
  });

  test('createStore: MemoryStore without Redis, ResilientStore around RedisStore with it', async () => {
    assert.ok(createStore({ timeoutMs: 50 }, { log: silentLogger }) instanceof MemoryStore);
    const store = createStore({ redisUrl: sharedRedisUrl, keyPrefix: prefix, timeoutMs: 200 }, { log: silentLogger });
    try {
      assert.ok(store instanceof ResilientStore);
      assert.equal(store.kind, 'redis');
      const decision = await decideOne(store, 'created', defaultPolicy);
      assert.deepEqual(decision, { allowed: true, remaining: 49, resetMs: 60_000, source: 'store' });
      assert.deepEqual(store.health?.(), { status: 'ok' });
    } finally {
      await store.close();
    }
    assert.throws(
      () => createStore({ redisUrl: sharedRedisUrl, upstashUrl: 'http://x', upstashToken: 't', timeoutMs: 50 }, { log: silentLogger }),
      /not to be set together with REDIS_URL/,
    );
    assert.throws(() => createStore({ upstashUrl: 'http://x', timeoutMs: 50 }, { log: silentLogger }), /UPSTASH_REDIS_REST_TOKEN/);
  });
});

describe('RedisStore on a private redis-server', () => {
  const redis = usePrivateRedis();

  test('round trips: one EVALSHA per decision, none for a client this instance knows is blocked', async () => {
    const inner = new RedisStore({ url: redis.server.url });
    const store = new ResilientStore(inner, { timeoutMs: 500, log: silentLogger });
    try {
      await decideOne(store, 'warm-up', defaultPolicy); // loads the script (EVALSHA → NOSCRIPT → EVAL)
      await redis.admin.config('RESETSTAT');
      for (let i = 0; i < 50; i++) assert.equal((await decideOne(store, 'rt', defaultPolicy)).source, 'store');
      let stats = await commandStats(redis.admin);
      assert.equal(stats.evalsha, 50, 'one EVALSHA per allowed decision');
      assert.equal(stats.eval, undefined);
      const limited = await decideOne(store, 'rt', defaultPolicy);
      assert.ok(!limited.allowed && limited.reason === 'limited' && limited.source === 'store');
      for (let i = 0; i < 100; i++) {
        const decision = await decideOne(store, 'rt', defaultPolicy);
        assert.equal(decision.source, 'local-cache');
        assert.ok(!decision.allowed && decision.reason === 'blocked');
      }
      stats = await commandStats(redis.admin);
      assert.equal(stats.evalsha, 51, 'no command for the 100 cached-blocked decisions');
      assert.deepEqual(clientCommands(stats), { evalsha: 51 }, 'nothing else was sent');
      assert.equal(store.stats().cachedBlocked, 100);
      // A plain RedisStore (no block cache) does ask Redis for a blocked client: one EVALSHA.
      await decideOne(inner, 'rt', defaultPolicy);
      assert.equal((await commandStats(redis.admin)).evalsha, 52);
    } finally {
      await store.close();
    }
  });

  test('decisions issued in one tick reach Redis in a few reads, each answered exactly; after a reconnection too', async () => {
    const store = new RedisStore({ url: redis.server.url });
    const reads = async (): Promise<number> => Number(/total_reads_processed:(\d+)/.exec(await redis.admin.info('stats'))?.[1]);
    const burst = async (clientKey: string): Promise<number> => {
      // A command held back for good would hang here: fail instead.
      const decisions = await withTimeout(
        Promise.all(Array.from({ length: 64 }, () => decideOne(store, clientKey, defaultPolicy))),
        10_000,
        'a burst of 64 decisions',
      );
      return decisions.filter((d) => d.allowed).length;
    };
    try {
      await decideOne(store, 'warm-up', defaultPolicy);
      const before = await reads();
      assert.equal(await burst('tick'), 50, 'exactly the limit allowed');
      // The first command alone, the other 63 in writes of at most 16 (WriteCoalescer), and the
      // INFO asking: at most 6 reads; a write per command made Redis read 26 to 65 times.
      const read = (await reads()) - before;
      assert.ok(read <= 6, `Redis read ${read} times`);

      await redis.admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      const deadline = Date.now() + 5000;
      for (;;) {
        try {
          await decideOne(store, 'after-kill', defaultPolicy);
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await sleep(20);
        }
      }
      assert.equal(await burst('after-reconnect'), 50, 'the new connection is not left corked');
    } finally {
      await store.close();
    }
  });

  test('NOSCRIPT: after SCRIPT FLUSH the store falls back to EVAL once, then EVALSHA again', async () => {
    const store = new RedisStore({ url: redis.server.url });
    try {
      await decideOne(store, 'ns', defaultPolicy);
      await redis.admin.script('FLUSH');
      await redis.admin.config('RESETSTAT');
      const first = await decideOne(store, 'ns', defaultPolicy);
      assert.deepEqual(first, { ...first, allowed: true, remaining: 48 });
      let stats = await commandStats(redis.admin);
      assert.equal(stats.eval, 1, 'EVAL after NOSCRIPT');
      assert.equal(stats.evalsha, 1, 'the EVALSHA that got NOSCRIPT');
      await decideOne(store, 'ns', defaultPolicy);
      stats = await commandStats(redis.admin);
      assert.equal(stats.eval, 1);
      assert.equal(stats.evalsha, 2);
    } finally {
      await store.close();
    }
  });

  test('password and db from the URL', async () => {
    const secured = await startRedisServer({ args: ['--requirepass', 's3cret'] });
    const store = new RedisStore({ url: `redis://:s3cret@127.0.0.1:${secured.port}/3`, keyPrefix: 'p:' });
    const perRequest = new RedisStore({
      url: `redis://default:s3cret@127.0.0.1:${secured.port}/3`,
      keyPrefix: 'p:',
      connectionPerRequest: true,
    });
    const check = new Redis({ port: secured.port, password: 's3cret', db: 3, lazyConnect: true });
    try {
      await check.connect();
      assert.equal((await decideOne(store, 'c', defaultPolicy)).allowed, true);
      assert.equal((await decideOne(perRequest, 'c', defaultPolicy)).allowed, true);
      assert.equal(await check.get('p:{c}:count'), '2');
      const wrong = new RedisStore({ url: `redis://:nope@127.0.0.1:${secured.port}/3`, connectionPerRequest: true });
      await assert.rejects(decideOne(wrong, 'c', defaultPolicy), /WRONGPASS|NOAUTH|invalid|unauthenticated/i);
      await wrong.close();
    } finally {
      check.disconnect();
      await Promise.all([store.close(), perRequest.close()]);
      await secured.stop();
    }
  });

  test('per-request connections: one EVAL each (no NOSCRIPT round trip, even after SCRIPT FLUSH), all closed afterwards', async () => {
    const store = new RedisStore({ url: redis.server.url, connectionPerRequest: true });
    const warmUp: Promise<unknown>[] = [];
    await decideOne(store, 'warm-up', defaultPolicy, { waitUntil: (p) => void warmUp.push(p) });
    await Promise.all(warmUp);
    const clientsBefore = String(await redis.admin.client('LIST'))
      .trim()
      .split('\n').length;
    await redis.admin.script('FLUSH');
    await redis.admin.config('RESETSTAT');
    const pending: Promise<unknown>[] = [];
    await Promise.all(Array.from({ length: 20 }, () => decideOne(store, 'pr', defaultPolicy, { waitUntil: (p) => void pending.push(p) })));
    await Promise.all(pending);
    // A new connection costs no command of its own (no INFO ready check, no CLIENT SETINFO).
    assert.deepEqual(clientCommands(await commandStats(redis.admin)), { eval: 20 });
    await sleep(50);
    const clientsAfter = String(await redis.admin.client('LIST'))
      .trim()
      .split('\n').length;
    assert.equal(clientsAfter, clientsBefore);
    await store.close();
  });
});
