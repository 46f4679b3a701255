/** The decide script on a 3-master Redis Cluster started here, through ioredis Cluster. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { silentLogger } from '../src/log.js';
import { createStore } from '../src/ratelimit/createStore.js';
import { defaultPolicy } from '../src/ratelimit/policy.js';
import { clientKeys, decideScriptSha1 } from '../src/ratelimit/redis/decideScript.js';
import { RedisStore } from '../src/ratelimit/redis/redisStore.js';
import { assertExactlyLimitAllowed } from './support/redis-exactness.js';
import { startRedisCluster, type RedisCluster } from './support/redis-cluster.js';
import { commandStats, type RedisServer } from './support/redis-server.js';

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
        const [blockKey, countKey] = clientKeys('cl:', clientKey);
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
    for (let i = 0; i < 60; i++) assert.equal((await stores[0]!.decide(`spread-${i}`, defaultPolicy)).allowed, true);
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

  test('connect: slots discovered and the script loaded on every master before the first decision', async () => {
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
      for (const admin of admins) assert.deepEqual(await admin.script('EXISTS', decideScriptSha1), [1]);
      for (const admin of admins) await admin.config('RESETSTAT');
      await Promise.all(Array.from({ length: 30 }, (_, i) => store.decide(`connected-${i}`, defaultPolicy)));
      const evals = await Promise.all(admins.map(async (admin) => (await commandStats(admin))['eval'] ?? 0));
      assert.deepEqual(evals, [0, 0, 0], 'every decision was one EVALSHA: no NOSCRIPT, no EVAL');
    } finally {
      await store.close();
      for (const admin of admins) admin.disconnect();
    }
  });

  test('createStore with REDIS_CLUSTER_NODES', async () => {
    const store = createStore({ redisClusterNodes: nodes, keyPrefix: 'cl:', timeoutMs: 1000 }, { log: silentLogger });
    try {
      assert.deepEqual(await store.decide('created', defaultPolicy), { allowed: true, remaining: 49, resetMs: 60_000, source: 'store' });
    } finally {
      await store.close();
    }
  });
});
