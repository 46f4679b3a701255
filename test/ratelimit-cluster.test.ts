/** The decide script on a 3-master Redis Cluster started here, through ioredis Cluster. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { silentLogger } from '../src/log.js';
import { createStore } from '../src/ratelimit/createStore.js';
import { defaultPolicy } from '../src/ratelimit/policy.js';
import { RedisStore } from '../src/ratelimit/redis/redisStore.js';
import { assertExactlyLimitAllowed } from './support/redis-exactness.js';
import { startRedisCluster, type RedisCluster } from './support/redis-cluster.js';
import { commandStats, type RedisServer } from './support/redis-server.js';
import { decideOne, defaultKeys } from './support/decide-one.js';

describe('Redis Cluster (3 masters)', () => {
  let cluster: RedisCluster;
  let servers: readonly RedisServer[] = [];
  const stores: RedisStore[] = [];
  let nodes: string[] = [];

  before(async () => {
    cluster = await startRedisCluster(3);
    servers = cluster.servers;
    nodes = [...cluster.nodes];
    for (let i = 0; i < 8; i++) stores.push(new RedisStore({ cluster: nodes, keyPrefix: 'cl:' }));
  });

  after(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await cluster.stop();
  });

  test('both keys of a client hash to one slot', async () => {
    const client = new Redis({ port: servers[0]!.port, lazyConnect: true });
    await client.connect();
    try {
      for (const clientKey of ['203.0.113.7', '2001:db8::/64', 'a{b}c', '']) {
        const [blockKey, countKey] = defaultKeys('cl:', clientKey);
        assert.equal(await client.cluster('KEYSLOT', blockKey), await client.cluster('KEYSLOT', countKey), clientKey);
      }
    } finally {
      client.disconnect();
    }
  });

  test('exactness: 200 concurrent decisions over 8 cluster clients → exactly 50 allowed, 20 times', async () => {
    for (let round = 0; round < 20; round++) {
      await assertExactlyLimitAllowed(stores, `cluster-${round}`, defaultPolicy, 200);
    }
  });

  test('clients spread over all three masters, each running the script', async () => {
    for (let i = 0; i < 60; i++) assert.equal((await decideOne(stores[0]!, `spread-${i}`, defaultPolicy)).allowed, true);
    for (const server of servers) {
      const client = new Redis({ port: server.port, lazyConnect: true });
      await client.connect();
      try {
        const keys = await client.keys('cl:{spread-*');
        assert.ok(keys.length > 0, `no client on the master at ${server.port}`);
      } finally {
        client.disconnect();
      }
    }
  });

  test('connect: slots discovered before the first decision; then one script call per decision, an EVAL only as a connection’s first', async () => {
    const admins = servers.map((server) => new Redis({ port: server.port, lazyConnect: true }));
    const store = createStore({ redisClusterNodes: nodes, keyPrefix: 'cl-connect:', timeoutMs: 1000 }, { log: silentLogger });
    try {
      for (const admin of admins) {
        await admin.connect();
        await admin.script('FLUSH');
      }
      assert.equal(store.health?.().status, 'degraded', 'not answered yet');
      await store.connect!(AbortSignal.timeout(10_000));
      assert.deepEqual(store.health?.(), { status: 'ok' });
      for (const admin of admins) await admin.config('RESETSTAT');
      await Promise.all(Array.from({ length: 30 }, (_, i) => decideOne(store, `connected-${i}`, defaultPolicy)));
      const stats = await Promise.all(admins.map((admin) => commandStats(admin)));
      const evals = stats.map((s) => s['eval'] ?? 0);
      const calls = stats.reduce((sum, s) => sum + (s['eval'] ?? 0) + (s['evalsha'] ?? 0), 0);
      assert.ok(
        evals.every((n) => n <= 1),
        `at most one EVAL per connection (then EVALSHA): ${evals}`,
      );
      assert.equal(calls, 30, 'one script call per decision: no NOSCRIPT and retry');
    } finally {
      await store.close();
      for (const admin of admins) admin.disconnect();
    }
  });

  test('createStore with REDIS_CLUSTER_NODES', async () => {
    const store = createStore({ redisClusterNodes: nodes, keyPrefix: 'cl:', timeoutMs: 1000 }, { log: silentLogger });
    try {
      assert.deepEqual(await decideOne(store, 'created', defaultPolicy), {
        allowed: true,
        remaining: 49,
        resetMs: 60_000,
        source: 'store',
      });
    } finally {
      await store.close();
    }
  });
});
