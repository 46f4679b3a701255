// `npx tsx bench/inserts.ts`: what a new client costs the per-instance structures when they are
// full — the in-memory store (a bounded sweep per new client, not a full scan) and the block cache.
// Figures only; the tests check the bounds, not the speed.
import { BlockCache } from '../src/ratelimit/blockCache.js';
import { MemoryStore } from '../src/ratelimit/memoryStore.js';
import { defaultPolicy } from '../src/ratelimit/policy.js';

/** The seed's one policy, as a store's checks. */
const defaultChecks = [{ name: 'default', limit: defaultPolicy, cost: 1 }];

function perOperationUs(count: number, run: (i: number) => void): number {
  const started = performance.now();
  for (let i = 0; i < count; i++) run(i);
  return ((performance.now() - started) / count) * 1000;
}

const store = new MemoryStore({ maxEntries: 50_000, now: () => 0 });
for (let i = 0; i < 50_000; i++) store.decideNow(`a${i}`, defaultChecks);
const storeUs = perOperationUs(50_000, (i) => store.decideNow(`b${i}`, defaultChecks));

const cache = new BlockCache(10_000);
const cacheUs = perOperationUs(200_000, (i) => cache.add(`c${i}`, 40_000 + i, i / 10));

console.log(`in-memory store, full of live clients (50,000): ${storeUs.toFixed(3)} µs per new client`);
console.log(`block cache, full (10,000): ${cacheUs.toFixed(3)} µs per new block`);
