/**
 * Exact under load: built gateway processes (each serving the demo subgraphs itself, as
 * `npm start` does) sharing one real Redis, a real three-master Redis Cluster, and
 * `npm run start:cluster` on that Cluster. Bursts of 4 clients × 60 concurrent federated
 * queries, the first right after start-up: every client gets exactly its limit, and no decision
 * was let through or taken by the per-process fallback. Run `npm run build` first.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { burst, burstAgent, roundClients } from './support/burst.js';
import { clusterScript, startGatewayProcess, type GatewayProcess } from './support/process.js';
import { startRedisCluster, type RedisCluster } from './support/redis-cluster.js';
import { freePort, startRedisServer, type RedisServer } from './support/redis-server.js';

const clients = 4;
const perClient = 60;
const limit = 50;
const rounds = 5;
const metricsToken = 'load-test-metrics-token';

/** The default deadline on purpose: the one the gateways fail open at. */
const gatewayEnv = { TRUST_PROXY: '1', RATE_LIMIT_TIMEOUT_MS: '50', METRICS_TOKEN: metricsToken };

/** Rate-limit decisions in the gateways' request lines that did not come from the shared store. */
function unsharedDecisions(gateways: readonly GatewayProcess[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of gateways.flatMap((g) => g.logs)) {
    const decision = line['rateLimitDecision'];
    if (decision === 'failed_open' || decision === 'fallback_allowed' || decision === 'fallback_limited') {
      const key = `${decision}${line['rateLimitCause'] ? `:${line['rateLimitCause']}` : ''}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
  }
  return counts;
}

/** `rounds` bursts, each with its own client addresses; every client gets exactly `limit`. */
async function assertExactBursts(t: TestContext, gateways: readonly GatewayProcess[], urls: readonly string[]): Promise<void> {
  const readiness = (await (await fetch(`${urls[0]}/readiness`)).json()) as { status: string };
  assert.equal(readiness.status, 'ready', 'connected before serving');
  const agent = burstAgent();
  try {
    for (let round = 0; round < rounds; round++) {
      const result = await burst(urls, roundClients(round, clients), perClient, agent);
      t.diagnostic(`round ${round + 1}: allowed ${result.allowed.join(',')}`);
      assert.deepEqual(
        result,
        {
          allowed: Array(clients).fill(limit),
          limited: Array(clients).fill(perClient - limit),
          other: Array(clients).fill(0),
        },
        `round ${round + 1}${round === 0 ? ' (the first burst after start-up)' : ''}`,
      );
    }
  } finally {
    agent.destroy();
  }
  assert.deepEqual(unsharedDecisions(gateways), {}, 'every decision came from the shared store');
  assert.ok(!gateways.some((g) => g.logs.some((l) => l['level'] === 'warn' || l['level'] === 'error')), 'no store failure logged');
}

/** The store's counters of one gateway process, from its /metrics. */
async function storeMetrics(url: string): Promise<{ unshared: Record<string, number>; lateReplies: number }> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text();
  const unshared: Record<string, number> = {};
  for (const match of text.matchAll(/^tollgate_rate_limit_unshared_decisions_total\{[^}]*reason="([^"]+)",cause="([^"]+)"\} (\d+)/gm)) {
    unshared[`${match[1]}:${match[2]}`] = Number(match[3]);
  }
  const late = /^tollgate_rate_limit_late_replies_total\{[^}]*\} (\d+)/m.exec(text);
  return { unshared, lateReplies: Number(late?.[1] ?? NaN) };
}

describe('exact under load: bursts of 4 clients × 60 concurrent federated queries', () => {
  let redis: RedisServer;
  let cluster: RedisCluster;
  before(async () => {
    [redis, cluster] = await Promise.all([startRedisServer(), startRedisCluster(3)]);
  });
  after(async () => {
    await Promise.all([redis?.stop(), cluster?.stop()]);
  });

  test('two gateway processes on one Redis: every burst exact, from the first after start-up', async (t) => {
    const env = { ...gatewayEnv, REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'load-single:' };
    const gateways = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
    try {
      await assertExactBursts(
        t,
        gateways,
        gateways.map((g) => g.url),
      );
      const metrics = await Promise.all(gateways.map((g) => storeMetrics(g.url)));
      t.diagnostic(`late replies used (loop busy past the deadline): ${metrics.map((m) => m.lateReplies).join(', ')}`);
      for (const { unshared, lateReplies } of metrics) {
        assert.deepEqual(unshared, {
          'failed_open:timeout': 0,
          'failed_open:error': 0,
          'failed_open:aborted': 0,
          'fallback:breaker_open': 0,
        });
        assert.ok(Number.isInteger(lateReplies));
      }
    } finally {
      await Promise.all(gateways.map((g) => g.stop()));
    }
  });

  test('two gateway processes on a three-master Redis Cluster: every burst exact, from the first after start-up', async (t) => {
    const env = { ...gatewayEnv, REDIS_CLUSTER_NODES: cluster.nodes.join(','), REDIS_KEY_PREFIX: 'load-cluster:' };
    const gateways = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
    try {
      await assertExactBursts(
        t,
        gateways,
        gateways.map((g) => g.url),
      );
    } finally {
      await Promise.all(gateways.map((g) => g.stop()));
    }
  });

  test('npm run start:cluster (2 workers) with REDIS_CLUSTER_NODES shares the Cluster: every burst exact', async (t) => {
    const env = { ...gatewayEnv, CLUSTER_WORKERS: '2', REDIS_CLUSTER_NODES: cluster.nodes.join(','), REDIS_KEY_PREFIX: 'load-workers:' };
    // One port for both workers (node:cluster shares it): a fixed free one, since PORT=0 would differ per worker.
    const port = await freePort();
    const primary = await startGatewayProcess({ ...env, PORT: String(port) }, { script: clusterScript, started: 2 });
    try {
      assert.ok(!primary.logs.some((l) => String(l['msg']).includes('in-memory rate-limit store')), 'no warning that workers limit alone');
      const pids = new Set(primary.logs.filter((l) => l['msg'] === 'cluster: worker listening').map((l) => l['pid']));
      assert.equal(pids.size, 2);
      await assertExactBursts(t, [primary], [primary.url]);
    } finally {
      await primary.stop();
    }
  });
});
