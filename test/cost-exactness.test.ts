// A budget spent in cost is exact under concurrency in every store: 200 concurrent operations of
// estimated cost 7, from one client, against a fixed-window budget of 1000 pass exactly
// ⌊1000/7⌋ = 142 times, each remaining balance handed out once, and the 6 left still admit an
// operation of cost 1. One scenario, run against the in-memory store (each query planner), a
// redis-server, a Redis Cluster of three masters, Upstash's REST protocol in front of a
// redis-server, and two gateway processes (the built dist/node/main.js) sharing one redis-server.
// The in-process rows over a shared store split the operations between two gateways with a store
// connection each. Every Redis is a private one on a free port, so nothing else on the machine
// moves the counts.
// The demo graph has no cost directives: `me { id }` costs 1 (an object), seven aliases of it 7.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { QueryPlanner } from '../src/gateway/planner.js';
import { silentLogger } from '../src/log.js';
import { createStore, type StoreConfig } from '../src/ratelimit/createStore.js';
import type { RateLimitStore } from '../src/ratelimit/store.js';
import { closeDemo, demoSubgraphs, postQuery, startTestGateway, type TestGateway } from './support/gateway.js';
import { startGatewayProcess, type GatewayProcess } from './support/process.js';
import { startRedisCluster } from './support/redis-cluster.js';
import { startRedisServer } from './support/redis-server.js';
import { startUpstashRestProcess } from './support/upstash-rest-process.js';

const sevenQuery = `{ ${Array.from({ length: 7 }, (_, i) => `m${i}: me { id }`).join(' ')} }`;
const budgetPolicies = JSON.stringify([{ name: 'cost', key: 'ip', unit: 'cost', limit: 1000, window: 60 }]);
/** Generous: a decision that missed its deadline would fail open and let one too many through. */
const storeTimeoutMs = 5000;

interface Answer {
  readonly status: number;
  readonly rateLimit: string | null;
  readonly body: { errors?: { extensions: Record<string, unknown> }[]; data?: unknown };
}

async function send(url: string, query: string): Promise<Answer> {
  const response = await postQuery(url, query);
  return { status: response.status, rateLimit: response.headers.get('ratelimit'), body: (await response.json()) as Answer['body'] };
}

/**
 * Sends 200 operations of cost 7 at once, spread round-robin over the gateways' URLs, and checks
 * the budget was spent exactly; `logs` resolves with every line the gateways wrote for them.
 */
async function assertBudgetSpentExactly(urls: readonly string[], logs: () => Promise<readonly Record<string, unknown>[]>): Promise<void> {
  const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => send(urls[i % urls.length]!, sevenQuery)));
  const lines = (await logs()).filter((l) => l['msg'] === 'request');
  const notDecidedByTheStore = lines.filter((l) => l['rateLimitSource'] !== undefined && l['rateLimitSource'] !== 'local-cache');
  assert.deepEqual(notDecidedByTheStore, [], 'no decision failed open or fell back');
  const passed = answers.filter((a) => a.status === 200);
  const rejected = answers.filter((a) => a.status === 429);
  assert.deepEqual({ passed: passed.length, rejected: rejected.length }, { passed: 142, rejected: 58 });
  for (const a of passed) assert.ok(a.body.data, 'a passed operation was served');
  for (const a of rejected) {
    assert.deepEqual(
      { code: a.body.errors?.[0]?.extensions['code'], policy: a.body.errors?.[0]?.extensions['policy'] },
      { code: 'RATE_LIMITED', policy: 'cost' },
    );
  }
  // Every balance from 993 down to 6 was handed out once: no two operations spent the same units.
  const remaining = passed.map((a) => Number(/;r=(\d+)/.exec(a.rateLimit ?? '')?.[1])).sort((x, y) => x - y);
  assert.deepEqual(
    remaining,
    Array.from({ length: 142 }, (_, i) => 6 + 7 * i),
    'each remaining balance once',
  );
  // 1000 − 142 × 7 = 6 left: an operation of cost 1 still passes, on any of the gateways.
  const cheap = await send(urls[urls.length - 1]!, '{ me { id } }');
  assert.equal(cheap.status, 200, 'a rejection left the rest of the budget untouched');
  assert.match(cheap.rateLimit ?? '', /;r=5;/);
}

/** Two in-process gateways over one shared store each (a connection each), the budget policy. */
async function startGatewayPair(config: Omit<StoreConfig, 'timeoutMs'>): Promise<{
  gateways: TestGateway[];
  close(): Promise<void>;
}> {
  const stores: RateLimitStore[] = [];
  const gateways: TestGateway[] = [];
  const close = async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await Promise.all(stores.map((s) => s.close()));
  };
  try {
    for (let i = 0; i < 2; i++) {
      const store = createStore({ ...config, timeoutMs: storeTimeoutMs }, { log: silentLogger });
      stores.push(store);
      await store.connect?.(AbortSignal.timeout(10_000));
      gateways.push(await startTestGateway({ RATE_LIMIT_POLICIES: budgetPolicies }, { store }));
    }
    return { gateways, close };
  } catch (error) {
    await close();
    throw error;
  }
}

describe('a budget in cost is exact under concurrency in every store', () => {
  after(closeDemo);

  const planners: readonly QueryPlanner[] = ['rust', 'js'];
  for (const planner of planners) {
    test(`in memory (${planner} planner): 200 concurrent operations of cost 7 against 1000 pass exactly 142 times`, async () => {
      const gateway = await startTestGateway({ QUERY_PLANNER: planner, RATE_LIMIT_POLICIES: budgetPolicies });
      try {
        await assertBudgetSpentExactly([gateway.url], async () => gateway.logs);
      } finally {
        await gateway.close();
      }
    });
  }

  test('on Redis, over two gateways: 200 concurrent operations of cost 7 against 1000 pass exactly 142 times', async () => {
    const server = await startRedisServer();
    try {
      const pair = await startGatewayPair({ redisUrl: server.url, keyPrefix: 'cost-exact:' });
      try {
        await assertBudgetSpentExactly(
          pair.gateways.map((g) => g.url),
          async () => pair.gateways.flatMap((g) => g.logs),
        );
      } finally {
        await pair.close();
      }
    } finally {
      await server.stop();
    }
  });

  test('on a Redis Cluster of three masters, over two gateways: exactly 142 of 200 pass', async () => {
    const cluster = await startRedisCluster(3);
    try {
      const pair = await startGatewayPair({ redisClusterNodes: cluster.nodes, keyPrefix: 'cost-exact:' });
      try {
        await assertBudgetSpentExactly(
          pair.gateways.map((g) => g.url),
          async () => pair.gateways.flatMap((g) => g.logs),
        );
      } finally {
        await pair.close();
      }
    } finally {
      await cluster.stop();
    }
  });

  test('over Upstash REST (a stand-in process before a real redis-server), over two gateways: exactly 142 of 200 pass', async () => {
    const server = await startRedisServer();
    try {
      const rest = await startUpstashRestProcess({ redisUrl: server.url, token: 'cost-exactness-token' });
      try {
        const pair = await startGatewayPair({ upstashUrl: rest.url, upstashToken: rest.token, keyPrefix: 'cost-exact:' });
        try {
          await assertBudgetSpentExactly(
            pair.gateways.map((g) => g.url),
            async () => pair.gateways.flatMap((g) => g.logs),
          );
        } finally {
          await pair.close();
        }
      } finally {
        await rest.close();
      }
    } finally {
      await server.stop();
    }
  });

  test('two gateway processes sharing one Redis, 100 operations each at once: exactly 142 of 200 pass', async () => {
    const demo = await demoSubgraphs();
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-cost-'));
    const supergraph = join(dir, 'supergraph.graphql');
    writeFileSync(supergraph, demo.supergraphSdl);
    const server = await startRedisServer();
    const env = {
      SUPERGRAPH: supergraph,
      REDIS_URL: server.url,
      REDIS_KEY_PREFIX: 'cost-exact:',
      RATE_LIMIT_TIMEOUT_MS: String(storeTimeoutMs),
      // A gateway that started before reaching its store would let operations through uncounted.
      RATE_LIMIT_STARTUP_WAIT_MS: '20000',
      // The test is the proxy: warm-up requests name another client in X-Forwarded-For.
      TRUST_PROXY: '127.0.0.1',
      RATE_LIMIT_POLICIES: budgetPolicies,
    };
    const processes: GatewayProcess[] = [];
    try {
      processes.push(...(await Promise.all([startGatewayProcess(env), startGatewayProcess(env)])));
      for (const p of processes) {
        assert.ok(
          p.logs.some((l) => l['msg'] === 'rate-limit store connected'),
          `process ${p.child.pid} reached Redis before serving`,
        );
      }
      // Each process answers concurrent operations from another client first, so the measured
      // burst meets warm processes rather than first-request planning and compilation.
      for (let round = 0; round < 3; round++) {
        await Promise.all(
          processes.flatMap((p) =>
            Array.from({ length: 50 }, async () => {
              const response = await postQuery(p.url, sevenQuery, { 'x-forwarded-for': '192.0.2.50' });
              await response.arrayBuffer();
            }),
          ),
        );
      }
      // The children's request lines reach this process through their stdout, a little after the answers.
      const requestLines = (p: GatewayProcess, from = 0) => p.logs.slice(from).filter((l) => l['msg'] === 'request');
      const waitForLines = async (count: number, from: readonly number[]) => {
        const deadline = Date.now() + 5000;
        const seen = () => processes.reduce((n, p, i) => n + requestLines(p, from[i]).length, 0);
        while (seen() < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      };
      await waitForLines(300, [0, 0]);
      const burstFrom = processes.map((p) => p.logs.length);
      const burstLines = () => processes.flatMap((p, i) => requestLines(p, burstFrom[i]));
      await assertBudgetSpentExactly(
        processes.map((p) => p.url),
        async () => {
          await waitForLines(200, burstFrom);
          return burstLines();
        },
      );
      const served = processes.map((p, i) => requestLines(p, burstFrom[i]).filter((l) => l['status'] === 200).length);
      assert.ok(
        served.every((n) => n > 0),
        `both processes served operations: ${served}`,
      );
    } finally {
      // Stopped by their pids (SIGTERM), each waited for.
      await Promise.all(processes.map((p) => p.stop()));
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
