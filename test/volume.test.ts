import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { parseConfig } from '../src/config.js';
import type { GatewayProvider } from '../src/gateway/lifecycle.js';
import { createHandler, type Handler, type RequestEvent } from '../src/lifecycle/handle.js';
import { silentLogger } from '../src/log.js';
import { createStore } from '../src/ratelimit/createStore.js';
import { MemoryStore } from '../src/ratelimit/memoryStore.js';
import type { RateLimitStore } from '../src/ratelimit/store.js';
import { commandStats, startRedisServer, type RedisServer } from './support/redis-server.js';

/**
 * Volume: 100,000 distinct client addresses through a trusted proxy, and a client that keeps
 * sending while blocked. The handler runs in process with a stub gateway (the limiter is what is
 * measured; the runtime would cap this at a few hundred requests per second).
 */

/** The bound stated in the README ("Memory under many clients"): the in-memory store's heap for 100,000 clients. */
const heapBoundBytes = 32 * 1024 * 1024;
const clients = 100_000;

/** A gateway that answers at once: the lifecycle without the runtime. */
const stubGateway: GatewayProvider = {
  lifecycle: 'isolate',
  swap: async () => {},
  acquire: () => ({
    runtime: { handleRequest: async () => new Response('{"data":{}}', { headers: { 'content-type': 'application/json' } }) } as never,
    release: undefined,
  }),
  dispose: async () => {},
};

function proxiedHandler(store: RateLimitStore, env: Record<string, string>, observe?: (e: RequestEvent) => void): Handler {
  const config = parseConfig({ TRUST_PROXY: '127.0.0.1', ...env }, 'node');
  return createHandler({ config, gateway: stubGateway, store, log: silentLogger, observe });
}

function request(forwardedFor: string): Request {
  return new Request('http://tollgate.test/graphql?query=%7B__typename%7D', { headers: { 'x-forwarded-for': forwardedFor } });
}

/** The nth distinct IPv4 address in 10.0.0.0/8. */
const address = (n: number): string => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

/** Child process (node --expose-gc): drives `count` clients through the handler, prints heap figures. */
async function measureChild(count: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const settle = async (): Promise<number> => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    return process.memoryUsage().heapUsed;
  };
  const store = new MemoryStore();
  const keys = new Set<string>();
  const handler = proxiedHandler(store, {}, (event) => void (event.clientKey && keys.size < 10 && keys.add(event.clientKey)));
  const ctx = { clientAddress: '127.0.0.1', waitUntil: () => {} };
  // Warm up the code paths (JIT, lazy modules) so the baseline holds them already.
  for (let i = 0; i < 2_000; i++) await (await handler(request(`192.168.${i >> 8}.${i & 255}`), ctx)).text();
  await store.close();
  keys.clear();
  const before = await settle();
  const started = performance.now();
  let allowed = 0;
  for (let i = 0; i < count; i++) {
    const response = await handler(request(`203.0.113.1, ${address(i)}`), ctx);
    if (response.status === 200) allowed++;
    await response.text();
  }
  const ms = performance.now() - started;
  const afterHeap = await settle();
  process.stdout.write(
    `${JSON.stringify({ count, allowed, entries: store.size, heapDelta: afterHeap - before, ms, sampleKeys: [...keys] })}\n`,
  );
}

if (process.env['TOLLGATE_VOLUME_CHILD']) {
  await measureChild(Number(process.env['TOLLGATE_VOLUME_CHILD']));
} else {
  describe('volume: 100,000 distinct clients through a trusted proxy (in-memory store)', () => {
    const run = (count: number) => {
      const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url)], {
        env: { ...process.env, TOLLGATE_VOLUME_CHILD: String(count) },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(child.status, 0, child.stderr);
      const line = child.stdout.trim().split('\n').pop()!;
      return JSON.parse(line) as { count: number; allowed: number; entries: number; heapDelta: number; ms: number; sampleKeys: string[] };
    };

    test(`each address is its own client (X-Forwarded-For from the trusted proxy), and the store stays under ${heapBoundBytes / 2 ** 20} MiB`, (t) => {
      const result = run(clients);
      t.diagnostic(
        `${result.count} clients in ${(result.ms / 1000).toFixed(1)} s: ${result.entries} store entries, ` +
          `heap +${(result.heapDelta / 2 ** 20).toFixed(1)} MiB (${Math.round(result.heapDelta / result.entries)} B per client)`,
      );
      assert.equal(result.allowed, clients, 'every client’s first request is allowed');
      assert.equal(result.entries, clients, 'one entry per client');
      // The key is the forwarded address (the rightmost untrusted hop), not the proxy's.
      assert.ok(
        result.sampleKeys.every((key) => key.startsWith('10.')),
        result.sampleKeys.join(),
      );
      assert.ok(result.heapDelta < heapBoundBytes, `heap grew ${result.heapDelta} bytes`);
    });
  });

  describe('volume: a blocked client costs no store round trips (ResilientStore + RedisStore, private redis-server)', () => {
    let redis: RedisServer;
    let admin: Redis;
    before(async () => {
      redis = await startRedisServer();
      admin = new Redis(redis.url, { lazyConnect: true });
      await admin.connect();
    });
    after(async () => {
      admin.disconnect();
      await redis.stop();
    });

    test('after the block starts, 2,000 more requests are answered 429 from memory: EVALSHA count unchanged', async () => {
      const store = createStore({ redisUrl: redis.url, timeoutMs: 200, keyPrefix: 'volume:' }, { log: silentLogger });
      const sources: (string | undefined)[] = [];
      const handler = proxiedHandler(
        store,
        { RATE_LIMIT_MAX_REQUESTS: '5', RATE_LIMIT_PENALTY_SECONDS: '60' },
        (event) => void sources.push(event.rateLimit.source),
      );
      const ctx = { clientAddress: '127.0.0.1', waitUntil: () => {} };
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 6; i++) statuses.push((await handler(request('198.51.100.9'), ctx)).status);
        assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
        const scripts = (stats: Record<string, number>) => (stats['evalsha'] ?? 0) + (stats['eval'] ?? 0);
        const atBlock = scripts(await commandStats(admin));
        assert.ok(atBlock >= 6 && atBlock <= 7, `one script call per decision so far (${atBlock})`);

        let blocked = 0;
        for (let i = 0; i < 2_000; i++) {
          const response = await handler(request('198.51.100.9'), ctx);
          if (response.status === 429 && response.headers.get('retry-after')) blocked++;
        }
        assert.equal(blocked, 2_000);
        assert.equal(scripts(await commandStats(admin)), atBlock, 'no store call while blocked');
        assert.ok(sources.slice(6).every((source) => source === 'local-cache'));
        // Another client still goes to the store.
        assert.equal((await handler(request('198.51.100.10'), ctx)).status, 200);
        assert.equal(scripts(await commandStats(admin)), atBlock + 1);
      } finally {
        await store.close();
      }
    });
  });
}
