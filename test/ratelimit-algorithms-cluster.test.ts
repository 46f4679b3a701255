/**
 * Each algorithm, several policies of one key, and exactness under concurrency on a private
 * 3-master Redis Cluster (test/support/redis-cluster.ts), real clock:
 * test/support/ratelimit-store-suite.ts. Plus: all the keys of one client's policies share a slot.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import type { Check } from '../src/ratelimit/policy.js';
import { clientKeys } from '../src/ratelimit/redis/decideScript.js';
import { RedisStore } from '../src/ratelimit/redis/redisStore.js';
import { sharedStoreAlgorithmTests } from './support/ratelimit-store-suite.js';
import { startRedisCluster, type RedisCluster } from './support/redis-cluster.js';

describe('RedisStore on Redis Cluster (3 masters): every algorithm', () => {
  const prefix = 'cl-algo:';
  let cluster: RedisCluster;
  let admin: Cluster;
  const stores: RedisStore[] = [];

  before(async () => {
    cluster = await startRedisCluster(3);
    admin = new Cluster([...cluster.nodes].map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })));
    for (let i = 0; i < 8; i++) stores.push(new RedisStore({ cluster: [...cluster.nodes], keyPrefix: prefix }));
  });
  after(async () => {
    await Promise.all(stores.map((store) => store.close()));
    admin.disconnect();
    await cluster.stop();
  });

  test('every key of one client’s policies, of every algorithm, hashes to one slot', async () => {
    const checks: Check[] = [
      { name: 'default', limit: { algorithm: 'fixed-window', limit: 5, windowMs: 60_000, penaltyMs: 40_000 }, cost: 1 },
      { name: 'fw', limit: { algorithm: 'fixed-window', limit: 5, windowMs: 60_000, penaltyMs: 0 }, cost: 1 },
      { name: 'sw', limit: { algorithm: 'sliding-window', limit: 5, windowMs: 60_000 }, cost: 1 },
      { name: 'tb', limit: { algorithm: 'token-bucket', limit: 5, refillPerSecond: 1 }, cost: 1, shadow: true },
    ];
    const node = new Redis({ port: cluster.servers[0]!.port, lazyConnect: true });
    await node.connect();
    try {
      for (const clientKey of ['203.0.113.7', 'jwt:alice', 'key:acme', '2001:db8::/64', 'a{b}c', '']) {
        const keys = clientKeys(prefix, clientKey, checks);
        assert.equal(keys.length, 6);
        const slots = new Set(await Promise.all(keys.map((k) => node.cluster('KEYSLOT', k))));
        assert.equal(slots.size, 1, `${clientKey}: ${keys.join(' ')}`);
      }
    } finally {
      node.disconnect();
    }
  });

  sharedStoreAlgorithmTests({
    stores: () => stores,
    prefix,
    pttl: (key) => admin.pttl(key),
    keys: async () => {
      const keys: string[] = [];
      for (const node of admin.nodes('master')) keys.push(...(await node.keys(`${prefix}*`)));
      return keys;
    },
  });
});
