/**
 * UpstashStore against a real redis-server behind the REST endpoint of
 * test/support/upstash-rest-server.ts (the protocol @upstash/redis speaks).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis as UpstashRedis } from '@upstash/redis/cloudflare';
import { Redis } from 'ioredis';
import { createLogger, silentLogger } from '../src/log.js';
import { createStore } from '../src/ratelimit/createStore.js';
import { defaultPolicy, type RateLimitPolicy } from '../src/ratelimit/policy.js';
import { UpstashStore } from '../src/ratelimit/redis/upstashStore.js';
import { ResilientStore } from '../src/ratelimit/resilientStore.js';
import { realClock, runPolicyScenario } from './support/ratelimit-scenario.js';
import { assertExactlyLimitAllowed } from './support/redis-exactness.js';
import { clientCommands, commandStats, startRedisServer, type RedisServer } from './support/redis-server.js';
import { startUpstashRestServer, type UpstashRestServer } from './support/upstash-rest-server.js';
import { decideOne, defaultKeys } from './support/decide-one.js';

/** Short enough to wait out, long enough for 50 requests on a loaded machine. */
const shortPolicy: RateLimitPolicy = { limit: 50, windowMs: 1500, penaltyMs: 600 };

describe('UpstashStore over REST', () => {
  let server: RedisServer;
  let rest: UpstashRestServer;
  let admin: Redis;
  const stores: UpstashStore[] = [];

  before(async () => {
    server = await startRedisServer();
    rest = await startUpstashRestServer({ redisUrl: server.url, token: 'right-token' });
    admin = new Redis(server.url, { lazyConnect: true });
    await admin.connect();
    for (let i = 0; i < 8; i++) stores.push(new UpstashStore({ url: rest.url, token: rest.token, keyPrefix: 'up:' }));
  });
  after(async () => {
    await Promise.all(stores.map((store) => store.close()));
    admin.disconnect();
    await rest.close();
    await server.stop();
  });

  test('the REST endpoint speaks what @upstash/redis expects (base64, pipeline, errors)', async () => {
    const plain = new UpstashRedis({ url: rest.url, token: rest.token, enableTelemetry: false });
    await plain.set('up:probe', 'héllo wörld');
    assert.equal(await plain.get('up:probe'), 'héllo wörld');
    assert.equal(await plain.incr('up:n'), 1);
    const [a, b] = await Promise.all([plain.get('up:probe'), plain.incr('up:n')]); // auto-pipelined
    assert.deepEqual([a, b], ['héllo wörld', 2]);
    assert.ok((rest.requests['/pipeline'] ?? 0) > 0, 'the pipeline endpoint was used');
    await assert.rejects(plain.evalsha('0'.repeat(40), [], []), /NOSCRIPT/);
    await admin.del('up:probe', 'up:n');
  });

  test('the documented scenario with the real script (window 1.5 s, penalty 0.6 s)', async () => {
    await runPolicyScenario({
      policy: shortPolicy,
      decide: () => decideOne(stores[0]!, 'scenario', shortPolicy),
      ...realClock,
    });
  });

  test('penalty: block key ≈ 40 s, counter gone', async () => {
    const [blockKey, countKey] = defaultKeys('up:', 'penalty');
    for (let i = 0; i < 50; i++) assert.equal((await decideOne(stores[i % 8]!, 'penalty', defaultPolicy)).allowed, true);
    assert.deepEqual(await decideOne(stores[0]!, 'penalty', defaultPolicy), {
      allowed: false,
      reason: 'limited',
      retryAfterMs: 40_000,
      source: 'store',
    });
    const ttl = await admin.pttl(blockKey);
    assert.ok(ttl > 39_000 && ttl <= 40_000, `${ttl}`);
    assert.equal(await admin.exists(countKey), 0);
  });

  test('exactness: 200 concurrent decisions over 8 clients → exactly 50 allowed, 20 times', async () => {
    for (let round = 0; round < 20; round++) {
      await assertExactlyLimitAllowed(stores, `exact-${round}`, defaultPolicy, 200);
    }
  });

  test('one request and one EVALSHA per decision; NOSCRIPT after SCRIPT FLUSH → EVAL once', async () => {
    const store = stores[0]!;
    await decideOne(store, 'rt', defaultPolicy);
    await admin.config('RESETSTAT');
    const before = rest.requests['/'] ?? 0;
    for (let i = 0; i < 10; i++) await decideOne(store, 'rt', defaultPolicy);
    assert.equal((rest.requests['/'] ?? 0) - before, 10, 'one HTTP request per decision');
    assert.deepEqual(clientCommands(await commandStats(admin)), { evalsha: 10 });

    await admin.script('FLUSH');
    await admin.config('RESETSTAT');
    const decision = await decideOne(store, 'rt', defaultPolicy);
    assert.deepEqual(decision, { allowed: true, remaining: 38, resetMs: decision.allowed ? decision.resetMs : 0, source: 'store' });
    assert.deepEqual(clientCommands(await commandStats(admin)), { evalsha: 1, eval: 1 });
    await decideOne(store, 'rt', defaultPolicy);
    assert.deepEqual(clientCommands(await commandStats(admin)), { evalsha: 2, eval: 1 });
  });

  test('evalOnly (Workers): one request and one EVAL per decision, even after SCRIPT FLUSH', async () => {
    const store = new UpstashStore({ url: rest.url, token: rest.token, keyPrefix: 'up-eval:', evalOnly: true });
    await admin.script('FLUSH');
    await admin.config('RESETSTAT');
    const before = rest.requests['/'] ?? 0;
    for (let i = 0; i < 5; i++) assert.equal((await decideOne(store, 'rt-eval', defaultPolicy)).allowed, true);
    assert.equal((rest.requests['/'] ?? 0) - before, 5, 'one HTTP request per decision');
    assert.deepEqual(clientCommands(await commandStats(admin)), { eval: 5 });
    await store.close();
  });

  test('an aborted signal rejects the call', async () => {
    const controller = new AbortController();
    controller.abort(new Error('deadline'));
    await assert.rejects(decideOne(stores[0]!, 'abort', defaultPolicy, { signal: controller.signal }), /deadline/);
    const late = new AbortController();
    const pending = decideOne(stores[0]!, 'abort', defaultPolicy, { signal: late.signal });
    late.abort(new Error('late deadline'));
    await assert.rejects(pending, /late deadline/);
  });

  test('wrong token: the store rejects; ResilientStore fails open and logs once', async () => {
    const wrong = new UpstashStore({ url: rest.url, token: 'wrong-token', keyPrefix: 'up:' });
    await assert.rejects(decideOne(wrong, 'x', defaultPolicy), /Unauthorized/);
    const lines: string[] = [];
    const resilient = new ResilientStore(wrong, { timeoutMs: 500, log: createLogger('info', (line) => lines.push(line)) });
    for (let i = 0; i < 3; i++) {
      const decision = await decideOne(resilient, 'x', defaultPolicy);
      assert.equal(decision.source, 'failed-open');
      assert.equal(decision.allowed, true);
    }
    assert.equal(resilient.stats().failedOpen, 3);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /Unauthorized/);
    assert.doesNotMatch(lines[0]!, /command was|\{x\}/, 'no client key in the log');
    await resilient.close();
  });

  test('createStore with UPSTASH_REDIS_REST_URL/TOKEN', async () => {
    const store = createStore({ upstashUrl: rest.url, upstashToken: rest.token, keyPrefix: 'up:', timeoutMs: 500 }, { log: silentLogger });
    assert.equal(store.kind, 'upstash');
    assert.deepEqual(await decideOne(store, 'created', defaultPolicy), { allowed: true, remaining: 49, resetMs: 60_000, source: 'store' });
    await store.close();
  });
});
