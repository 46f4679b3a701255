/**
 * Logs worth shipping on Node: JSON lines, one per request with the request's figures,
 * the client key as a salted hash, the request id on every line written while a request is
 * handled, Redis failures summarised per interval, and the lifecycle of `npm start`.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { parseConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startNodeServer } from '../src/node/server.js';
import { createNodeObservability } from '../src/observability/node.js';
import { createStore } from '../src/ratelimit/createStore.js';
import { MemoryStore } from '../src/ratelimit/memoryStore.js';
import type { RateLimitStore } from '../src/ratelimit/store.js';
import { createTollgate } from '../src/tollgate.js';
import { closeDemo, demoSubgraphs, postQuery } from './support/gateway.js';
import { startGatewayProcess } from './support/process.js';
import { startRedisServer, uniquePrefix } from './support/redis-server.js';

after(closeDemo);

type Line = Record<string, unknown>;

/** The gateway as `npm start` wires it (src/node/main.ts), in this process, logging into `lines`. */
async function startObservedGateway(
  env: Record<string, string>,
  options: { store?: (log: ReturnType<typeof createLogger>) => RateLimitStore } = {},
) {
  const demo = await demoSubgraphs();
  const fullEnv = { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env };
  const config = parseConfig(fullEnv, 'node');
  const raw: string[] = [];
  const log = createLogger(config.logLevel, (line) => raw.push(line));
  const store = options.store?.(log) ?? new MemoryStore();
  const obs = createNodeObservability(config.observability, config, { log, store });
  const tollgate = createTollgate(config, { supergraphSdl: demo.supergraphSdl, store, log: obs.log, ...obs.tollgate });
  const server = await startNodeServer({ handler: obs.wrap(tollgate.handler), port: 0, host: '127.0.0.1', log });
  return {
    url: server.url,
    raw,
    /** Every line, parsed: each must be one JSON object. */
    lines: (): Line[] => raw.map((text) => JSON.parse(text) as Line),
    async close() {
      await server.close();
      await obs.close();
      await tollgate.close();
    },
  };
}

const hash = (salt: string, key: string): string => createHmac('sha256', salt).update(key).digest('hex').slice(0, 16);

async function drained(response: Promise<Response>): Promise<Response> {
  const r = await response;
  await r.arrayBuffer();
  return r;
}

describe('request lines', () => {
  test('one JSON line per request with its figures; the client key as a salted hash', async () => {
    const gw = await startObservedGateway({ LOG_SALT: 'salt-for-the-tests' });
    try {
      await drained(postQuery(gw.url, 'query TopProducts { topProducts { name } }', { 'x-request-id': 'logs-top' }));
      await drained(postQuery(gw.url, 'query Boom { boom }', { 'x-request-id': 'logs-boom' }));
      await drained(fetch(`${gw.url}/healthcheck`, { headers: { 'x-request-id': 'logs-health' } }));

      const lines = gw.lines();
      for (const line of lines) {
        assert.equal(typeof line['time'], 'string');
        assert.ok(['debug', 'info', 'warn', 'error'].includes(String(line['level'])));
        assert.equal(typeof line['msg'], 'string');
      }
      const requests = lines.filter((l) => l['msg'] === 'request');
      assert.deepEqual(
        requests.map((l) => l['requestId']),
        ['logs-top', 'logs-boom', 'logs-health'],
        'one line per request',
      );

      const [top, boom, health] = requests as [Line, Line, Line];
      const client = hash('salt-for-the-tests', '127.0.0.1');
      assert.deepEqual(
        { ...top, time: undefined, ms: undefined, rateLimitMs: undefined, gatewayMs: undefined },
        {
          time: undefined,
          level: 'info',
          msg: 'request',
          requestId: 'logs-top',
          method: 'POST',
          path: '/graphql',
          status: 200,
          ms: undefined,
          rateLimit: 'allowed',
          operation: 'TopProducts',
          rateLimitDecision: 'allowed',
          rateLimitMs: undefined,
          rateLimitPolicy: 'default',
          gatewayMs: undefined,
          client,
        },
      );
      for (const figure of ['ms', 'rateLimitMs', 'gatewayMs']) assert.equal(typeof top[figure], 'number', figure);
      assert.equal(boom['operation'], 'Boom');
      assert.equal(boom['client'], client, 'the same client, the same hash');
      assert.deepEqual(boom['subgraphErrors'], { products: 1 });
      assert.equal(health['rateLimit'], 'exempt');
      assert.equal(health['client'], undefined);
      assert.equal(health['rateLimitDecision'], undefined);
      assert.ok(!gw.raw.some((line) => line.includes('127.0.0.1')), 'no line holds the client address');
    } finally {
      await gw.close();
    }
  });

  test('LOG_CLIENT_IP=true logs the address; without LOG_SALT each process hashes with its own salt', async () => {
    const plain = await startObservedGateway({ LOG_CLIENT_IP: 'true' });
    const a = await startObservedGateway({});
    const b = await startObservedGateway({});
    try {
      for (const gw of [plain, a, a, b]) await drained(postQuery(gw.url, '{ topProducts { name } }'));
      const client = (gw: typeof a): unknown[] =>
        gw
          .lines()
          .filter((l) => l['msg'] === 'request')
          .map((l) => l['client']);
      assert.deepEqual(client(plain), ['127.0.0.1']);
      const [a1, a2] = client(a) as [string, string];
      assert.match(a1, /^[0-9a-f]{16}$/);
      assert.equal(a2, a1);
      assert.notEqual(client(b)[0], a1, 'a random salt per process');
    } finally {
      await Promise.all([plain.close(), a.close(), b.close()]);
    }
  });

  test('the request id is on every line written while a request is handled, the runtime’s own included', async () => {
    const gw = await startObservedGateway({ LOG_LEVEL: 'debug', GATEWAY_LIFECYCLE: 'request' });
    try {
      await drained(postQuery(gw.url, '{ topProducts(first: 1) { name reviews { author { name } } } }', { 'x-request-id': 'traced-1' }));
      await drained(postQuery(gw.url, '{ nope }', { 'x-request-id': 'traced-2' }));
      await drained(postQuery(gw.url, 'query Boom { boom }'));
      await new Promise((resolve) => setTimeout(resolve, 100)); // disposal through waitUntil

      const lines = gw.lines();
      const runtime = lines.filter((l) => l['component'] === 'runtime');
      assert.ok(runtime.length > 10, 'the runtime logs at debug');
      const missing = lines.filter((l) => typeof l['requestId'] !== 'string');
      assert.deepEqual(missing, [], 'every line has a requestId');
      assert.ok(runtime.some((l) => l['requestId'] === 'traced-1' && /Processing GraphQL Parameters/.test(String(l['msg']))));
      assert.ok(lines.some((l) => l['requestId'] === 'traced-1' && l['msg'] === 'gateway disposed'));
      const generated = lines.find((l) => l['msg'] === 'request' && l['operation'] === 'Boom')!['requestId'];
      assert.ok(
        lines.some((l) => l['msg'] === 'upstream error' && l['requestId'] === generated),
        'the generated id too',
      );
    } finally {
      await gw.close();
    }
  });
});

describe('Redis failures in the log', () => {
  test('summarised per interval, not per request; degraded and recovered once each', async () => {
    const redis = await startRedisServer();
    const gw = await startObservedGateway(
      { TRUST_PROXY: 'loopback' },
      {
        store: (log) =>
          createStore(
            { redisUrl: redis.url, keyPrefix: uniquePrefix('logs'), timeoutMs: 100 },
            { log, resilience: { breaker: { failureThreshold: 3, coolDownMs: 300 } } },
          ),
      },
    );
    const from = (ip: string): Promise<Response> =>
      drained(postQuery(gw.url, '{ topProducts(first: 1) { name } }', { 'x-forwarded-for': ip }));
    try {
      assert.equal((await from('203.0.113.1')).status, 200);
      await redis.kill();
      const failingSince = gw.raw.length;
      for (let i = 0; i < 40; i++) assert.equal((await from(`203.0.113.${10 + (i % 20)}`)).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 400)); // past the cool-down: the next call probes
      for (let i = 0; i < 5; i++) assert.equal((await from(`203.0.113.${50 + i}`)).status, 200);

      const failing = gw.lines().slice(failingSince);
      const requests = failing.filter((l) => l['msg'] === 'request');
      assert.equal(requests.length, 45, 'one line per request');
      const decisions = new Set(requests.map((l) => l['rateLimitDecision']));
      assert.deepEqual([...decisions].sort(), ['failed_open', 'fallback_allowed']);
      assert.ok(requests.some((l) => l['breaker'] === 'open'));
      const summaries = failing.filter((l) => l['msg'] === 'store failing; requests let through');
      assert.equal(summaries.length, 1, 'at most one summary per 10 s interval');
      assert.equal(summaries[0]!['level'], 'warn');
      assert.equal(summaries[0]!['store'], 'redis');
      assert.equal(typeof summaries[0]!['failures'], 'number');
      const opened = failing.filter((l) => l['msg'] === 'store circuit open; per-instance limiter answering');
      assert.equal(opened.length, 1, 'degraded: logged once');

      await redis.restart();
      const deadline = Date.now() + 10_000;
      for (let i = 0; Date.now() < deadline && !gw.raw.some((l) => l.includes('"store recovered"')); i++) {
        await from(`203.0.113.${100 + (i % 100)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const recovered = gw.lines().filter((l) => l['msg'] === 'store recovered');
      assert.equal(recovered.length, 1, 'recovered: logged once');
      assert.equal(recovered[0]!['level'], 'info');
      assert.equal(typeof recovered[0]!['failuresSinceLastReport'], 'number');
      const last = gw
        .lines()
        .filter((l) => l['msg'] === 'request')
        .at(-1)!;
      assert.equal(last['breaker'], 'closed');
      assert.equal(last['rateLimitDecision'], 'allowed');
    } finally {
      await gw.close();
      await redis.stop();
    }
  });
});

describe('lifecycle lines of `npm start` (dist/node/main.js)', () => {
  test('start-up with the effective configuration minus secrets; shutdown and stop', async () => {
    const password = 'redis-password-not-for-logs';
    const secrets = { METRICS_TOKEN: 'metrics-token-not-for-logs-123', LOG_SALT: 'log-salt-not-for-logs' };
    const redis = await startRedisServer({ args: ['--requirepass', password] });
    const redisUrl = `redis://:${password}@127.0.0.1:${redis.port}/0`;
    const gateway = await startGatewayProcess({ ...secrets, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: uniquePrefix('logs-process') });
    try {
      const started = gateway.logs.find((l) => l['msg'] === 'started')!;
      const config = started['config'] as Record<string, unknown>;
      assert.equal(config['environment'], 'production');
      assert.equal(config['redisUrl'], `redis://:***@127.0.0.1:${redis.port}/0`);
      assert.equal(config['metricsToken'], '[set]');
      assert.equal(config['logSalt'], '[set]');
      assert.equal(config['upstashToken'], undefined);
      assert.equal(config['metricsEndpoint'], 'gateway-port');
      assert.equal(config['logClientIp'], false);
      assert.deepEqual(config['policy'], { limit: 50, windowMs: 60_000, penaltyMs: 40_000 });
      assert.equal(config['trustProxy'], 'none');
      assert.equal(config['gatewayLifecycle'], 'isolate');
      assert.equal(started['store'], 'redis');
      assert.equal(started['metrics'], `${gateway.url}/metrics (bearer token)`);

      const response = await drained(
        postQuery(gateway.url, 'query One { topProducts(first: 1) { name } }', { 'x-request-id': 'process-1' }),
      );
      assert.equal(response.status, 200);
      const deadline = Date.now() + 5_000;
      while (!gateway.logs.some((l) => l['requestId'] === 'process-1') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const line = gateway.logs.find((l) => l['msg'] === 'request' && l['requestId'] === 'process-1')!;
      assert.equal(line['client'], hash(secrets.LOG_SALT, '127.0.0.1'));
      assert.equal(line['rateLimitDecision'], 'allowed', 'Redis with its password works');
      assert.equal(line['breaker'], 'closed');

      assert.equal(await gateway.stop('SIGTERM'), 0);
      const msgs = gateway.logs.map((l) => l['msg']);
      assert.ok(msgs.indexOf('shutdown') > msgs.indexOf('request'));
      assert.equal(gateway.logs.find((l) => l['msg'] === 'shutdown')!['signal'], 'SIGTERM');
      assert.equal(msgs.at(-1), 'stopped');

      const everything = JSON.stringify(gateway.logs) + gateway.stderr();
      for (const secret of [password, ...Object.values(secrets)]) assert.ok(!everything.includes(secret), 'no secret in the output');
    } finally {
      await gateway.stop('SIGKILL');
      await redis.stop();
    }
  });
});
