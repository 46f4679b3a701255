/**
 * Each algorithm, several policies of one key, and exactness under concurrency, with UpstashStore
 * through the REST stand-in (test/support/upstash-rest-server.ts) in front of a private
 * redis-server, real clock: test/support/ratelimit-store-suite.ts.
 */
import { after, before, describe } from 'node:test';
import { Redis } from 'ioredis';
import { UpstashStore } from '../src/ratelimit/redis/upstashStore.js';
import { sharedStoreAlgorithmTests } from './support/ratelimit-store-suite.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { startUpstashRestServer, type UpstashRestServer } from './support/upstash-rest-server.js';

describe('UpstashStore over REST: every algorithm', () => {
  const prefix = 'up-algo:';
  let server: RedisServer;
  let rest: UpstashRestServer;
  let admin: Redis;
  const stores: UpstashStore[] = [];

  before(async () => {
    server = await startRedisServer();
    rest = await startUpstashRestServer({ redisUrl: server.url, token: 'algorithms-token' });
    admin = new Redis(server.url, { lazyConnect: true });
    await admin.connect();
    for (let i = 0; i < 8; i++) stores.push(new UpstashStore({ url: rest.url, token: rest.token, keyPrefix: prefix }));
  });
  after(async () => {
    await Promise.all(stores.map((store) => store.close()));
    admin.disconnect();
    await rest.close();
    await server.stop();
  });

  sharedStoreAlgorithmTests({
    stores: () => stores,
    prefix,
    pttl: (key) => admin.pttl(key),
    keys: () => admin.keys(`${prefix}*`),
  });
});
