import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { closeDemo, demoSubgraphs, postQuery } from './support/gateway.js';
import { startGatewayProcess, type GatewayProcess } from './support/process.js';
import { deleteKeys, freePort, sharedRedisUrl, startRedisServer, uniquePrefix, type RedisServer } from './support/redis-server.js';
import { startUpstashRestServer } from './support/upstash-rest-server.js';
import { serveText, startWorker } from './support/worker.js';

let supergraphFile: string;
let supergraphServer: { url: string; close(): Promise<void> };
const redis = new Redis(sharedRedisUrl);
const prefixes: string[] = [];
const prefix = (name: string) => {
  const p = uniquePrefix(name);
  prefixes.push(p);
  return p;
};

before(async () => {
  const demo = await demoSubgraphs();
  supergraphFile = join(mkdtempSync(join(tmpdir(), 'tollgate-')), 'supergraph.graphql');
  writeFileSync(supergraphFile, demo.supergraphSdl);
  supergraphServer = await serveText(demo.supergraphSdl);
});
after(async () => {
  for (const p of prefixes) await deleteKeys(redis, p);
  redis.disconnect();
  await supergraphServer.close();
  await closeDemo();
});

const query = '{ topProducts { name } }';

describe('rate limiting shared through Redis across gateways', () => {
  test('two gateway processes sharing one Redis: 100 requests alternating → exactly 50×200 and 50×429', async () => {
    const env = { SUPERGRAPH: supergraphFile, REDIS_URL: sharedRedisUrl, REDIS_KEY_PREFIX: prefix('two-procs') };
    const gateways: GatewayProcess[] = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
    try {
      const statuses: number[] = [];
      const retryAfters: string[] = [];
      for (let i = 0; i < 100; i++) {
        const response = await postQuery(gateways[i % 2]!.url, query);
        await response.arrayBuffer();
        statuses.push(response.status);
        if (response.status === 429) retryAfters.push(response.headers.get('retry-after') ?? '');
      }
      assert.equal(statuses.filter((s) => s === 200).length, 50);
      assert.equal(statuses.filter((s) => s === 429).length, 50);
      assert.deepEqual(statuses.slice(0, 50), Array(50).fill(200), 'the first 50 pass, whichever gateway took them');
      assert.ok(
        retryAfters.every((r) => Number(r) >= 1 && Number(r) <= 40),
        'every 429 has Retry-After',
      );
      assert.equal(retryAfters[0], '40');
    } finally {
      await Promise.all(gateways.map((g) => g.stop()));
    }
  });

  test('/readiness reports the Redis store: ok, then degraded while Redis is down; /healthcheck stays 200', async () => {
    const server = await startRedisServer();
    const gateway = await startGatewayProcess({
      SUPERGRAPH: supergraphFile,
      REDIS_URL: server.url,
      RATE_LIMIT_TIMEOUT_MS: '50',
    });
    try {
      await (await postQuery(gateway.url, query)).arrayBuffer();
      const ready = (await (await fetch(`${gateway.url}/readiness`)).json()) as any;
      assert.deepEqual({ kind: ready.store.kind, status: ready.store.status }, { kind: 'redis', status: 'ok' });

      await server.kill();
      const started = Date.now();
      for (let i = 0; i < 10; i++) {
        const response = await postQuery(gateway.url, query);
        await response.arrayBuffer();
        assert.equal(response.status, 200, 'fails open');
      }
      assert.ok(Date.now() - started < 10 * 1000, 'within the deadline per request (generous margin)');
      const readiness = await fetch(`${gateway.url}/readiness`);
      assert.equal(readiness.status, 200, 'still ready: requests are served');
      assert.equal(((await readiness.json()) as any).store.status, 'degraded');
      const health = await fetch(`${gateway.url}/healthcheck`);
      await health.arrayBuffer();
      assert.equal(health.status, 200);
    } finally {
      await gateway.stop();
      await server.stop();
    }
  });
});

describe('a Redis that is down at start', () => {
  test('the gateway waits RATE_LIMIT_STARTUP_WAIT_MS, says so, serves failing open, and is degraded until Redis answers', async () => {
    const port = await freePort();
    const waitMs = 300;
    const started = Date.now();
    const gateway = await startGatewayProcess({
      SUPERGRAPH: supergraphFile,
      REDIS_URL: `redis://127.0.0.1:${port}`,
      RATE_LIMIT_TIMEOUT_MS: '50',
      RATE_LIMIT_STARTUP_WAIT_MS: String(waitMs),
    });
    let server: RedisServer | undefined;
    try {
      assert.ok(Date.now() - started >= waitMs, 'it waited for the store');
      const warning = gateway.logs.find(
        (l) => l['msg'] === 'rate-limit store not reachable at start; requests are let through until it answers',
      );
      assert.ok(warning, JSON.stringify(gateway.logs.map((l) => l['msg'])));
      const readiness = async () => {
        const response = await fetch(`${gateway.url}/readiness`);
        return { http: response.status, ...((await response.json()) as { status: string; store: { status: string } }) };
      };
      const before = await readiness();
      assert.deepEqual([before.http, before.status, before.store.status], [200, 'degraded', 'degraded']);
      const response = await postQuery(gateway.url, query);
      await response.arrayBuffer();
      assert.equal(response.status, 200, 'fails open');

      server = await startRedisServer({ port });
      const deadline = Date.now() + 10_000;
      let status = '';
      while (Date.now() < deadline) {
        await (await postQuery(gateway.url, query)).arrayBuffer();
        status = (await readiness()).status;
        if (status === 'ready') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(status, 'ready', 'ready once Redis has answered');
    } finally {
      await gateway.stop();
      await server?.stop();
    }
  });
});

describe('the Worker bundle in workerd with Redis', () => {
  test('Redis over TCP (nodejs_compat, a connection per request) shares the limit with a Node gateway', async () => {
    const keyPrefix = prefix('worker-tcp');
    const worker = await startWorker({
      SUPERGRAPH: supergraphServer.url,
      REDIS_URL: sharedRedisUrl,
      REDIS_KEY_PREFIX: keyPrefix,
      RATE_LIMIT_TIMEOUT_MS: '1000',
    });
    // The Node gateway sees the client as 127.0.0.1; the Worker as its CF-Connecting-IP.
    const node = await startGatewayProcess({ SUPERGRAPH: supergraphFile, REDIS_URL: sharedRedisUrl, REDIS_KEY_PREFIX: keyPrefix });
    try {
      const send = async (i: number) => {
        const response =
          i % 2 === 0
            ? await worker.fetch('/graphql', {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ query }),
                clientIp: '127.0.0.1',
              })
            : await postQuery(node.url, query);
        await response.arrayBuffer();
        return response;
      };
      for (let i = 0; i < 50; i++) assert.equal((await send(i)).status, 200, `request ${i + 1}`);
      const limited = await send(50);
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('retry-after'), '40');
      assert.equal((await send(51)).status, 429, 'the Node gateway sees the same block');
      assert.ok((await redis.pttl(`${keyPrefix}{127.0.0.1}:block`)) > 35_000, 'the block lives in Redis');
      // Sequential requests each opened and closed their own connection: nothing hung.
      assert.ok(!worker.logs.some((l) => l['level'] === 'error'), JSON.stringify(worker.logs.filter((l) => l['level'] === 'error')));
    } finally {
      await worker.dispose();
      await node.stop();
    }
  });

  test('Redis over Upstash REST: the 51st request is 429 with Retry-After', async () => {
    const rest = await startUpstashRestServer({ redisUrl: sharedRedisUrl });
    const worker = await startWorker({
      SUPERGRAPH: supergraphServer.url,
      UPSTASH_REDIS_REST_URL: rest.url,
      UPSTASH_REDIS_REST_TOKEN: rest.token,
      REDIS_KEY_PREFIX: prefix('worker-rest'),
      RATE_LIMIT_TIMEOUT_MS: '1000',
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 52; i++) {
        const response = await worker.fetch('/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query }),
          clientIp: '192.0.2.77',
        });
        await response.arrayBuffer();
        statuses.push(response.status);
        if (i === 50) assert.equal(response.headers.get('retry-after'), '40');
      }
      assert.equal(statuses.filter((s) => s === 200).length, 50);
      assert.deepEqual(statuses.slice(50), [429, 429]);
      assert.ok(Object.values(rest.requests).reduce((a, b) => a + b, 0) >= 51, 'decisions went through the REST endpoint');
    } finally {
      await worker.dispose();
      await rest.close();
    }
  });
});
