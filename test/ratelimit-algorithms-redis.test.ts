/**
 * Each algorithm, several policies of one key, and exactness under concurrency, with RedisStore
 * on the shared Redis at 127.0.0.1:6379 (a unique key prefix, removed afterwards) and the real
 * clock: test/support/ratelimit-store-suite.ts.
 */
import { after, before, describe } from 'node:test';
import { Redis } from 'ioredis';
import { RedisStore } from '../src/ratelimit/redis/redisStore.js';
import { sharedStoreAlgorithmTests } from './support/ratelimit-store-suite.js';
import { deleteKeys, sharedRedisUrl, uniquePrefix } from './support/redis-server.js';

describe('RedisStore (shared Redis, unique prefix): every algorithm', () => {
  const prefix = uniquePrefix('algorithms');
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

  sharedStoreAlgorithmTests({
    stores: () => stores,
    prefix,
    pttl: (key) => admin.pttl(key),
    keys: async () => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      return keys;
    },
  });
});
