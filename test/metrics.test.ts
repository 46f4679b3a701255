/**
 * Prometheus metrics on Node: known traffic through the real server and the demo
 * subgraphs, then a scrape of /metrics parsed with a Prometheus text-format parser
 * (prom2javascript), and every series checked against the traffic.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { getMetricsFromIterator, type PromHistogramData, type PromMetrics } from 'prom2javascript';
import { ConfigError, parseConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startNodeServer } from '../src/node/server.js';
import { createNodeObservability } from '../src/observability/node.js';
import { createStore } from '../src/ratelimit/createStore.js';
import { MemoryStore } from '../src/ratelimit/memoryStore.js';
import type { RateLimitStore } from '../src/ratelimit/store.js';
import { createTollgate } from '../src/tollgate.js';
import { closeDemo, demoSubgraphs, postQuery } from './support/gateway.js';
import { runGatewayExpectingFailure, startGatewayProcess, type GatewayProcess } from './support/process.js';
import { startRedisServer, uniquePrefix } from './support/redis-server.js';

after(closeDemo);

const token = 'metrics-token-for-tests-0123456789';
const bearer = { authorization: `Bearer ${token}` };

/** The gateway as `npm start` wires it (src/node/main.ts), in this process, on a free port. */
async function startObservedGateway(env: Record<string, string>, store: RateLimitStore = new MemoryStore()) {
  const demo = await demoSubgraphs();
  const fullEnv = { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env };
  const config = parseConfig(fullEnv, 'node');
  const logs: Record<string, unknown>[] = [];
  const log = createLogger(config.logLevel, (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
  const obs = createNodeObservability(config.observability, config, { log, store });
  const tollgate = createTollgate(config, { supergraphSdl: demo.supergraphSdl, store, log: obs.log, ...obs.tollgate });
  const server = await startNodeServer({ handler: obs.wrap(tollgate.handler), port: 0, host: '127.0.0.1', log });
  return {
    url: server.url,
    logs,
    async close() {
      await server.close();
      await obs.close();
      await tollgate.close();
    },
  };
}

async function scrape(url: string, headers: Record<string, string> = bearer): Promise<PromMetrics> {
  const response = await fetch(url, { headers });
  assert.equal(response.status, 200, `GET ${url}`);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parse(await response.text());
}

/**
 * The exposition parsed by prom2javascript. It rejects NaN samples, which Prometheus accepts
 * (prom-client writes `Nan` for event-loop figures with no sample yet): those lines are left out.
 */
function parse(text: string): Promise<PromMetrics> {
  const lines = text.split('\n').filter((line) => line.startsWith('#') || !/\s(NaN|Nan)$/.test(line));
  return getMetricsFromIterator(lines[Symbol.iterator]());
}

/** `{ "a=1,b=2": value }` for every sample of a counter or gauge. */
function samples(metrics: PromMetrics, name: string): Record<string, number> {
  const metric = metrics[name];
  assert.ok(metric, `${name} is exposed`);
  return Object.fromEntries(
    (metric.data as { labels: Record<string, string>; value: number }[]).map(({ labels, value }) => [labelKey(labels), value]),
  );
}

function labelKey(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function histogram(metrics: PromMetrics, name: string, labels: Record<string, string>): PromHistogramData {
  const metric = metrics[name];
  assert.ok(metric, `${name} is exposed`);
  assert.equal(metric.type, 'histogram');
  const found = (metric.data as PromHistogramData[]).find((d) => labelKey(d.labels) === labelKey(labels));
  assert.ok(found, `${name}{${labelKey(labels)}} is exposed`);
  return found;
}

function histogramKeys(metrics: PromMetrics, name: string): string[] {
  return (metrics[name]?.data as PromHistogramData[] | undefined)?.map((d) => labelKey(d.labels)).sort() ?? [];
}

const decisions = (values: Partial<Record<string, number>>): Record<string, number> => ({
  'decision=allowed': 0,
  'decision=limited': 0,
  'decision=blocked': 0,
  'decision=blocked_local_cache': 0,
  'decision=failed_open': 0,
  'decision=fallback_allowed': 0,
  'decision=fallback_limited': 0,
  ...Object.fromEntries(Object.entries(values).map(([k, v]) => [`decision=${k}`, v!])),
});

const ms = (response: Response): number => Number((response.headers.get('x-processing-time') ?? '').replace(/ms$/, ''));

describe('/metrics on Node after known traffic (in-memory store, production, METRICS_TOKEN)', () => {
  test('51 requests from one client: 50 allowed, 1 limited; every series matches the traffic', async () => {
    const gw = await startObservedGateway({ ENVIRONMENT: 'production', METRICS_TOKEN: token });
    try {
      const graphqlMs: number[] = [];
      const send = async (query: string, expected: number): Promise<void> => {
        const response = await postQuery(gw.url, query);
        await response.arrayBuffer();
        assert.equal(response.status, expected);
        graphqlMs.push(ms(response));
      };
      // 48 + 2 allowed, 10 in flight at a time; then the 51st is limited and the 52nd blocked.
      for (let batch = 0; batch < 48; batch += 12) {
        await Promise.all(Array.from({ length: 12 }, () => send('query TopProducts { topProducts { name } }', 200)));
      }
      await send('query Boom { boom }', 200);
      await send('query Boom { boom }', 200);
      await send('query TopProducts { topProducts { name } }', 429);
      await send('query TopProducts { topProducts { name } }', 429);
      assert.equal((await fetch(`${gw.url}/healthcheck`)).status, 200);
      assert.equal((await fetch(`${gw.url}/metrics`)).status, 401, 'no token');
      const wrong = await fetch(`${gw.url}/metrics`, { headers: { authorization: 'Bearer not-the-token-at-all' } });
      assert.equal(wrong.status, 401, 'wrong token');
      assert.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="metrics"');

      const metrics = await scrape(`${gw.url}/metrics`);

      assert.deepEqual(samples(metrics, 'tollgate_requests_total'), {
        'path=/graphql,status=200,operation=TopProducts': 48,
        'path=/graphql,status=200,operation=Boom': 2,
        'path=/graphql,status=429,operation=(none)': 2,
        'path=/healthcheck,status=200,operation=(none)': 1,
        'path=/metrics,status=401,operation=(none)': 2,
      });
      assert.deepEqual(samples(metrics, 'tollgate_rate_limit_decisions_total'), decisions({ allowed: 50, limited: 1, blocked: 1 }));
      assert.deepEqual(samples(metrics, 'tollgate_rate_limit_policy_decisions_total'), {
        'policy=default,tier=default,mode=enforce,decision=allowed': 50,
        'policy=default,tier=default,mode=enforce,decision=limited': 1,
        'policy=default,tier=default,mode=enforce,decision=blocked': 1,
      });

      // The processing-time histogram holds exactly the X-Processing-Time figures (rounded there to 0.01 ms).
      const processing = histogram(metrics, 'tollgate_processing_time_seconds', { path: '/graphql' });
      assert.equal(processing.count, 52);
      assert.equal(processing.buckets['+Inf'], 52);
      const headerSum = graphqlMs.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(processing.sum! * 1000 - headerSum) < 52 * 0.005 + 1e-6, `${processing.sum! * 1000} ms vs ${headerSum} ms`);
      assert.equal(histogram(metrics, 'tollgate_processing_time_seconds', { path: '/healthcheck' }).count, 1);
      assert.equal(histogram(metrics, 'tollgate_processing_time_seconds', { path: '/metrics' }).count, 2);

      // Every rate-limited request asked the store; none failed.
      assert.deepEqual(histogramKeys(metrics, 'tollgate_rate_limit_store_duration_seconds'), ['store=memory,result=ok']);
      const store = histogram(metrics, 'tollgate_rate_limit_store_duration_seconds', { store: 'memory', result: 'ok' });
      assert.equal(store.count, 52);
      assert.ok(store.sum! > 0 && store.sum! < 1);

      // topProducts { name } and boom are answered by the products subgraph alone; boom always fails.
      assert.deepEqual(histogramKeys(metrics, 'tollgate_subgraph_duration_seconds'), ['subgraph=products']);
      assert.equal(histogram(metrics, 'tollgate_subgraph_duration_seconds', { subgraph: 'products' }).count, 50);
      assert.deepEqual(samples(metrics, 'tollgate_subgraph_errors_total'), { 'subgraph=products': 2 });

      assert.deepEqual(samples(metrics, 'tollgate_info'), {
        'environment=production,store=memory,gateway_lifecycle=isolate,rate_limit=on': 1,
      });
      assert.equal(metrics['tollgate_rate_limit_breaker_state'], undefined, 'the in-memory store has no breaker');
      assert.ok(metrics['process_cpu_user_seconds_total'], 'Node process metrics');
      assert.ok(metrics['nodejs_eventloop_lag_p99_seconds'], 'event-loop lag');

      // The client is blocked, yet /metrics answers: it is never rate limited. The scrape above is counted now.
      const again = await scrape(`${gw.url}/metrics`);
      assert.equal(samples(again, 'tollgate_requests_total')['path=/metrics,status=200,operation=(none)'], 1);
      assert.deepEqual(samples(again, 'tollgate_rate_limit_decisions_total'), decisions({ allowed: 50, limited: 1, blocked: 1 }));
    } finally {
      await gw.close();
    }
  });

  test('policies are counted by name, tier and mode; a shadow policy’s rejections apart, never a 429', async () => {
    const gw = await startObservedGateway({
      ENVIRONMENT: 'production',
      METRICS_TOKEN: token,
      RATE_LIMIT_POLICIES: JSON.stringify([
        { name: 'ip', key: 'ip', limit: 100, window: 60 },
        { name: 'strict', key: 'ip', limit: 2, window: 60, mode: 'shadow' },
      ]),
    });
    try {
      for (let i = 0; i < 4; i++) {
        const response = await postQuery(gw.url, '{ __typename }');
        await response.arrayBuffer();
        assert.equal(response.status, 200);
      }
      const metrics = await scrape(`${gw.url}/metrics`);
      assert.deepEqual(samples(metrics, 'tollgate_rate_limit_policy_decisions_total'), {
        'policy=ip,tier=default,mode=enforce,decision=allowed': 4,
        'policy=strict,tier=default,mode=shadow,decision=allowed': 2,
        'policy=strict,tier=default,mode=shadow,decision=limited': 2,
      });
      assert.deepEqual(samples(metrics, 'tollgate_rate_limit_decisions_total'), decisions({ allowed: 4 }));
    } finally {
      await gw.close();
    }
  });

  test('priced operations: their estimated and actual cost in a histogram; nothing when nothing is priced', async () => {
    const gw = await startObservedGateway({
      ENVIRONMENT: 'production',
      METRICS_TOKEN: token,
      RATE_LIMIT_POLICIES: JSON.stringify([{ name: 'points', key: 'ip', unit: 'cost', limit: 1000, window: 60 }]),
    });
    const unpriced = await startObservedGateway({ ENVIRONMENT: 'production', METRICS_TOKEN: token });
    try {
      for (const query of ['{ topProducts(first: 2) { name } }', '{ topProducts(first: 2) { name } }', '{ me { id } }']) {
        const response = await postQuery(gw.url, query);
        await response.arrayBuffer();
        assert.equal(response.status, 200);
      }
      const metrics = await scrape(`${gw.url}/metrics`);
      const estimated = histogram(metrics, 'tollgate_operation_cost', { kind: 'estimated' });
      const actual = histogram(metrics, 'tollgate_operation_cost', { kind: 'actual' });
      // Estimated 10, 10, 1; actually 2, 2, 1.
      assert.deepEqual({ count: estimated.count, sum: estimated.sum }, { count: 3, sum: 21 });
      assert.deepEqual({ count: actual.count, sum: actual.sum }, { count: 3, sum: 5 });
      assert.equal(actual.buckets['3'], 3);
      assert.equal(estimated.buckets['3'], 1);
      await (await postQuery(unpriced.url, '{ me { id } }')).arrayBuffer();
      assert.deepEqual(histogramKeys(await scrape(`${unpriced.url}/metrics`), 'tollgate_operation_cost'), []);
    } finally {
      await gw.close();
      await unpriced.close();
    }
  });

  test('a subgraph that is down counts as errors of that subgraph', async () => {
    const demo = await demoSubgraphs();
    const users = demo.subgraphs.find((s) => s.name === 'users')!;
    const env = { HOST: '127.0.0.1', PORT: '0', METRICS_TOKEN: token };
    const config = parseConfig(env, 'node');
    const store = new MemoryStore();
    const log = createLogger('error', () => {});
    const obs = createNodeObservability(config.observability, config, { log, store });
    // The users subgraph's URL replaced by a port nobody listens on.
    const supergraphSdl = demo.supergraphSdl.replaceAll(users.url, 'http://127.0.0.1:9/graphql');
    const tollgate = createTollgate(config, { supergraphSdl, store, log: obs.log, ...obs.tollgate });
    const server = await startNodeServer({ handler: obs.wrap(tollgate.handler), port: 0, host: '127.0.0.1', log });
    try {
      for (let i = 0; i < 3; i++) {
        const response = await postQuery(server.url, 'query Authors { topProducts(first: 1) { name reviews { author { name } } } }');
        const body = (await response.json()) as { data?: unknown; errors?: unknown[] };
        assert.ok(body.errors && body.errors.length > 0, 'the answer reports the failed subgraph');
      }
      const metrics = await scrape(`${server.url}/metrics`);
      assert.deepEqual(samples(metrics, 'tollgate_subgraph_errors_total'), {
        'subgraph=products': 0,
        'subgraph=reviews': 0,
        'subgraph=users': 3,
      });
      assert.equal(histogram(metrics, 'tollgate_subgraph_duration_seconds', { subgraph: 'users' }).count, 3);
      assert.deepEqual(samples(metrics, 'tollgate_requests_total'), { 'path=/graphql,status=200,operation=Authors': 3 });
    } finally {
      await server.close();
      await tollgate.close();
    }
  });
});

describe('/metrics with a Redis store: local cache, failing open, fallback, breaker', () => {
  test('each outcome is counted and the breaker gauge follows the store', async () => {
    const redis = await startRedisServer();
    const storeLog = createLogger('error', () => {});
    const store = createStore(
      { redisUrl: redis.url, keyPrefix: uniquePrefix('metrics'), timeoutMs: 200 },
      { log: storeLog, resilience: { breaker: { failureThreshold: 3, coolDownMs: 400 } } },
    );
    // Clients told apart by X-Forwarded-For from the loopback proxy; 2 requests per window.
    const gw = await startObservedGateway({ METRICS_TOKEN: token, TRUST_PROXY: 'loopback', RATE_LIMIT_MAX_REQUESTS: '2' }, store);
    const from = async (ip: string, expected: number): Promise<void> => {
      const response = await postQuery(gw.url, '{ topProducts(first: 1) { name } }', { 'x-forwarded-for': ip });
      await response.arrayBuffer();
      assert.equal(response.status, expected, `from ${ip}`);
    };
    try {
      await from('198.51.100.1', 200);
      await from('198.51.100.1', 200);
      await from('198.51.100.1', 429); // limited by Redis: the block is remembered here
      await from('198.51.100.1', 429); // blocked from the local cache, without a Redis call

      const healthy = await scrape(`${gw.url}/metrics`);
      assert.deepEqual(
        samples(healthy, 'tollgate_rate_limit_decisions_total'),
        decisions({ allowed: 2, limited: 1, blocked_local_cache: 1 }),
      );
      assert.deepEqual(samples(healthy, 'tollgate_rate_limit_breaker_state'), {
        'store=redis,state=closed': 1,
        'store=redis,state=open': 0,
        'store=redis,state=half-open': 0,
      });
      assert.equal(histogram(healthy, 'tollgate_rate_limit_store_duration_seconds', { store: 'redis', result: 'ok' }).count, 3);
      assert.deepEqual(samples(healthy, 'tollgate_rate_limit_store_failures_total'), {
        'store=redis,reason=error': 0,
        'store=redis,reason=timeout': 0,
      });

      await redis.kill();
      // Three failures let through open the breaker; then the per-instance limiter decides.
      for (let i = 0; i < 3; i++) await from('198.51.100.2', 200);
      await from('198.51.100.2', 200);
      await from('198.51.100.2', 200);
      await from('198.51.100.2', 429);

      const degraded = await scrape(`${gw.url}/metrics`);
      assert.deepEqual(
        samples(degraded, 'tollgate_rate_limit_decisions_total'),
        decisions({ allowed: 2, limited: 1, blocked_local_cache: 1, failed_open: 3, fallback_allowed: 2, fallback_limited: 1 }),
      );
      assert.equal(samples(degraded, 'tollgate_rate_limit_breaker_state')['store=redis,state=open'], 1);
      assert.equal(histogram(degraded, 'tollgate_rate_limit_store_duration_seconds', { store: 'redis', result: 'failed' }).count, 3);
      const failures = Object.values(samples(degraded, 'tollgate_rate_limit_store_failures_total')).reduce((a, b) => a + b, 0);
      assert.equal(failures, 3, 'errors and timeouts together');
      assert.deepEqual(samples(degraded, 'tollgate_requests_total'), {
        'path=/graphql,status=200,operation=(anonymous)': 7,
        'path=/graphql,status=429,operation=(none)': 3,
        'path=/metrics,status=200,operation=(none)': 1,
      });

      // Redis back: after the cool-down one probe closes the breaker.
      await redis.restart();
      const deadline = Date.now() + 10_000;
      let state: Record<string, number> = {};
      for (let i = 3; Date.now() < deadline; i++) {
        await from(`198.51.100.${i}`, 200);
        state = samples(await scrape(`${gw.url}/metrics`), 'tollgate_rate_limit_breaker_state');
        if (state['store=redis,state=closed'] === 1) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.deepEqual(state, { 'store=redis,state=closed': 1, 'store=redis,state=open': 0, 'store=redis,state=half-open': 0 });
    } finally {
      await gw.close();
      await redis.stop();
    }
  });
});

describe('/metrics as `npm start` serves it (dist/node/main.js)', () => {
  let gateway: GatewayProcess | undefined;
  after(() => gateway?.stop());

  test('METRICS_PORT: served there only, never on the gateway port', async () => {
    gateway = await startGatewayProcess({ METRICS_PORT: '0' });
    const started = gateway.logs.find((l) => l['msg'] === 'started')!;
    const metricsUrl = String(started['metrics']);
    assert.match(metricsUrl, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    assert.notEqual(new URL(metricsUrl).port, new URL(gateway.url).port);

    const response = await postQuery(gateway.url, 'query One { topProducts(first: 1) { name } }');
    assert.equal(response.status, 200);
    await response.arrayBuffer();
    const onGatewayPort = await fetch(`${gateway.url}/metrics`);
    assert.equal(onGatewayPort.status, 404);
    await onGatewayPort.arrayBuffer();
    const elsewhere = await fetch(metricsUrl.replace(/\/metrics$/, '/graphql'));
    assert.equal(elsewhere.status, 404);
    await elsewhere.arrayBuffer();

    const metrics = await scrape(metricsUrl, {});
    const requests = samples(metrics, 'tollgate_requests_total');
    assert.equal(requests['path=/graphql,status=200,operation=One'], 1);
    assert.equal(requests['path=other,status=404,operation=(none)'], 1, 'the gateway port answered /metrics 404');
    assert.deepEqual(samples(metrics, 'tollgate_rate_limit_decisions_total'), decisions({ allowed: 2 }));
    assert.equal(await gateway.stop(), 0);
    gateway = undefined;
  });

  test('production without METRICS_TOKEN or METRICS_PORT: no /metrics at all', async () => {
    gateway = await startGatewayProcess({});
    const started = gateway.logs.find((l) => l['msg'] === 'started')!;
    assert.match(String(started['metrics']), /^off/);
    const response = await fetch(`${gateway.url}/metrics`);
    assert.equal(response.status, 404);
    assert.doesNotMatch(await response.text(), /tollgate_/);
    assert.equal(await gateway.stop(), 0);
    gateway = undefined;
  });
});

describe('metrics settings', () => {
  const parse = (env: Record<string, string>, platform: 'node' | 'worker' = 'node') => parseConfig(env, platform).observability;

  test('where /metrics is served', () => {
    assert.equal(parse({}).metricsEndpoint, 'off', 'production: only with a token or a port');
    assert.equal(parse({ METRICS_TOKEN: token }).metricsEndpoint, 'gateway-port');
    assert.equal(parse({ METRICS_PORT: '9464' }).metricsEndpoint, 'metrics-port');
    assert.equal(parse({ METRICS_PORT: '9464', METRICS_TOKEN: token }).metricsToken, token, 'a token guards the metrics port too');
    assert.equal(parse({ ENVIRONMENT: 'development' }).metricsEndpoint, 'gateway-port', 'development: open');
    assert.equal(parse({ METRICS_TOKEN: token }, 'worker').metricsEndpoint, 'off', 'Workers: no scrape endpoint');
    assert.equal(parse({ HOST: '10.0.0.5', METRICS_PORT: '9464' }).metricsHost, '10.0.0.5');
    assert.equal(parse({ METRICS_HOST: '127.0.0.1', METRICS_PORT: '9464' }).metricsHost, '127.0.0.1');
  });

  test('a bad value stops start-up naming the variable, never echoing a token', async () => {
    for (const [name, value] of [
      ['METRICS_PORT', '70000'],
      ['METRICS_PORT', '4000'],
      ['METRICS_PORT', 'nine'],
      ['METRICS_TOKEN', 'short-secret'],
      ['METRICS_TOKEN', 'a token with spaces in it'],
      ['LOG_CLIENT_IP', 'maybe'],
    ] as const) {
      assert.throws(
        () => parse({ [name]: value }),
        (error: unknown) =>
          error instanceof ConfigError && error.variable === name && (name !== 'METRICS_TOKEN' || !error.message.includes(value)),
        `${name}=${value}`,
      );
    }
    const { code, stderr } = await runGatewayExpectingFailure({ METRICS_TOKEN: 'short-secret' });
    assert.equal(code, 1);
    assert.match(stderr, /METRICS_TOKEN/);
    assert.ok(!stderr.includes('short-secret'));
  });
});
