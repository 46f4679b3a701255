import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, parseConfig } from '../src/config.js';
import { storeConfig } from '../src/tollgate.js';
import { runGatewayExpectingFailure } from './support/process.js';

describe('configuration', () => {
  test('defaults: production, 50 per 60 s with a 40 s block, in-memory store, CORS *, port 4000', () => {
    const config = parseConfig({}, 'node');
    assert.equal(config.environment, 'production');
    assert.deepEqual(config.policy, { limit: 50, windowMs: 60_000, penaltyMs: 40_000 });
    assert.equal(config.rateLimitEnabled, true);
    assert.equal(config.redisUrl, undefined);
    assert.equal(config.corsOrigins, '*');
    assert.equal(config.port, 4000);
    assert.deepEqual(config.trustProxy, { kind: 'none' });
    assert.deepEqual(parseConfig({}, 'worker').trustProxy, { kind: 'cloudflare' });
    assert.equal(config.gatewayLifecycle, 'isolate');
    assert.equal(config.logLevel, 'info');
  });

  test('development (development, dev, DEV) turns rate limiting off unless RATE_LIMIT_ENABLED=true', () => {
    for (const value of ['development', 'dev', 'DEV']) {
      const config = parseConfig({ ENVIRONMENT: value }, 'node');
      assert.equal(config.environment, 'development');
      assert.equal(config.rateLimitEnabled, false);
    }
    assert.equal(parseConfig({ ENVIRONMENT: 'dev', RATE_LIMIT_ENABLED: 'true' }, 'node').rateLimitEnabled, true);
    assert.equal(parseConfig({ ENVIRONMENT: 'prod', RATE_LIMIT_ENABLED: 'off' }, 'node').rateLimitEnabled, false);
  });

  test('every setting is read', () => {
    const config = parseConfig(
      {
        RATE_LIMIT_MAX_REQUESTS: '10',
        RATE_LIMIT_WINDOW_SECONDS: '5',
        RATE_LIMIT_PENALTY_SECONDS: '7',
        RATE_LIMIT_TIMEOUT_MS: '25',
        CORS_ORIGINS: 'https://a.example, http://localhost:3000',
        TRUST_PROXY: '2',
        GATEWAY_LIFECYCLE: 'request',
        REDIS_URL: 'rediss://:secret@redis.example:6380/2',
        REDIS_KEY_PREFIX: 'app1:',
        PORT: '8080',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        SUPERGRAPH: './supergraph.graphql',
      },
      'node',
    );
    assert.deepEqual(config.policy, { limit: 10, windowMs: 5_000, penaltyMs: 7_000 });
    assert.equal(config.rateLimitTimeoutMs, 25);
    assert.deepEqual(config.corsOrigins, ['https://a.example', 'http://localhost:3000']);
    assert.deepEqual(config.trustProxy, { kind: 'hops', hops: 2 });
    assert.equal(config.gatewayLifecycle, 'request');
    assert.equal(config.redisUrl, 'rediss://:secret@redis.example:6380/2');
    assert.equal(config.redisKeyPrefix, 'app1:');
    assert.equal(config.port, 8080);
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.supergraph, './supergraph.graphql');
    const cluster = parseConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis://10.0.0.2:7001' }, 'node');
    assert.deepEqual(cluster.redisClusterNodes, ['10.0.0.1:7000', 'redis://10.0.0.2:7001']);
    assert.deepEqual(storeConfig(cluster).redisClusterNodes, cluster.redisClusterNodes, 'reaches the store');
    assert.equal(storeConfig(cluster, true).connectionPerRequest, true);
  });

  test('RATE_LIMIT_STORE: inferred from the settings present; an explicit choice needs its settings and its platform', () => {
    assert.equal(parseConfig({}, 'node').rateLimitStore, 'memory');
    assert.equal(parseConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }, 'node').rateLimitStore, 'redis');
    assert.equal(parseConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000' }, 'node').rateLimitStore, 'redis');
    const upstash = { UPSTASH_REDIS_REST_URL: 'https://db.upstash.io', UPSTASH_REDIS_REST_TOKEN: 't' };
    assert.equal(parseConfig(upstash, 'worker').rateLimitStore, 'upstash');
    assert.equal(parseConfig({ RATE_LIMIT_STORE: 'durable-object' }, 'worker').rateLimitStore, 'durable-object');
    assert.equal(parseConfig({ RATE_LIMIT_STORE: 'durable-object' }, 'worker').durableObjectBinding, 'RATE_LIMITER');
    assert.equal(parseConfig({ RATE_LIMIT_STORE: 'Memory', REDIS_URL: 'redis://h:6379' }, 'node').rateLimitStore, 'memory');
    assert.equal(storeConfig(parseConfig({ RATE_LIMIT_STORE: 'memory', REDIS_URL: 'redis://h:6379' }, 'node')).kind, 'memory');
    const refused: [Record<string, string>, 'node' | 'worker', RegExp][] = [
      [{ RATE_LIMIT_STORE: 'dynamo' }, 'node', /RATE_LIMIT_STORE="dynamo": expected memory, redis, upstash, durable-object/],
      [{ RATE_LIMIT_STORE: 'redis' }, 'node', /REDIS_URL or REDIS_CLUSTER_NODES/],
      [{ RATE_LIMIT_STORE: 'upstash' }, 'worker', /UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN/],
      [{ RATE_LIMIT_STORE: 'durable-object' }, 'node', /only on Workers/],
    ];
    for (const [env, platform, message] of refused) {
      assert.throws(
        () => parseConfig(env, platform),
        (error: unknown) => error instanceof ConfigError && message.test(error.message),
      );
    }
  });

  test('a bad value throws a ConfigError naming the variable and what it expects', () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ RATE_LIMIT_MAX_REQUESTS: 'abc' }, 'RATE_LIMIT_MAX_REQUESTS', /whole number/],
      [{ RATE_LIMIT_MAX_REQUESTS: '0' }, 'RATE_LIMIT_MAX_REQUESTS', /from 1/],
      [{ RATE_LIMIT_WINDOW_SECONDS: '1.5' }, 'RATE_LIMIT_WINDOW_SECONDS', /whole number/],
      [{ ENVIRONMENT: 'staging' }, 'ENVIRONMENT', /development, dev, production, prod/],
      [{ CORS_ORIGINS: 'https://a.example/path' }, 'CORS_ORIGINS', /origins/],
      [{ CORS_ORIGINS: 'not a url' }, 'CORS_ORIGINS', /origins/],
      [{ TRUST_PROXY: 'everyone' }, 'TRUST_PROXY', /cloudflare/],
      [{ GATEWAY_LIFECYCLE: 'forever' }, 'GATEWAY_LIFECYCLE', /request, isolate/],
      [{ REDIS_URL: 'http://redis' }, 'REDIS_URL', /redis:\/\//],
      [{ UPSTASH_REDIS_REST_URL: 'https://x.upstash.io' }, 'UPSTASH_REDIS_REST_TOKEN', /together/],
      [{ UPSTASH_REDIS_REST_URL: 'ftp://x.upstash.io', UPSTASH_REDIS_REST_TOKEN: 't' }, 'UPSTASH_REDIS_REST_URL', /https:\/\//],
      [
        { UPSTASH_REDIS_REST_URL: 'https://x.upstash.io', UPSTASH_REDIS_REST_TOKEN: 't', REDIS_URL: 'redis://x' },
        'UPSTASH_REDIS_REST_URL',
        /REDIS_URL/,
      ],
      [{ RATE_LIMIT_ENABLED: 'maybe' }, 'RATE_LIMIT_ENABLED', /true\/false/],
      [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /debug, info, warn, error/],
      [{ PORT: '70000' }, 'PORT', /65535/],
      [{ REDIS_CLUSTER_NODES: 'nope' }, 'REDIS_CLUSTER_NODES', /host:port/],
      [{ REDIS_CLUSTER_NODES: '10.0.0.1:7000', REDIS_URL: 'redis://x' }, 'REDIS_CLUSTER_NODES', /REDIS_URL/],
    ];
    for (const [env, variable, expected] of cases) {
      assert.throws(
        () => parseConfig(env, 'node'),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, variable);
          assert.equal(error.variable, variable);
          assert.ok(error.message.includes(variable));
          assert.match(error.message, expected);
          return true;
        },
      );
    }
  });

  test('the Node gateway refuses to start on a bad value, naming the variable, with a non-zero exit code', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ RATE_LIMIT_MAX_REQUESTS: 'abc' }, /RATE_LIMIT_MAX_REQUESTS="abc": expected a whole number/],
      [{ ENVIRONMENT: 'staging' }, /ENVIRONMENT="staging": expected one of/],
      [{ CORS_ORIGINS: 'https://ok.example,ftp//bad' }, /CORS_ORIGINS=.*expected "\*" or comma-separated origins/],
      [{ SUPERGRAPH: '/nonexistent/supergraph.graphql' }, /SUPERGRAPH="\/nonexistent\/supergraph.graphql": expected a readable supergraph/],
      [{ SUPERGRAPH: '/etc/hostname' }, /SUPERGRAPH=.*expected a/],
    ];
    await Promise.all(
      cases.map(async ([env, message]) => {
        const { code, stderr } = await runGatewayExpectingFailure(env);
        assert.notEqual(code, 0, JSON.stringify(env));
        assert.match(stderr, message);
        assert.doesNotMatch(stderr, /\n\s+at /, 'a message, not a stack trace');
      }),
    );
  });
});
