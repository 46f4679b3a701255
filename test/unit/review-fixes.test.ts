// Fixes a review asked for, each pinned: records per request, not per client-chosen id; the
// start-up line shows limits whose names merely contain a secret's word.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'graphql';
import { parseConfig } from '../../src/config.js';
import { unifiedGraphHandlerFor } from '../../src/gateway/planner.js';
import { createLogger } from '../../src/log.js';
import { createStore, type StoreConfig } from '../../src/ratelimit/createStore.js';
import { effectiveConfig } from '../../src/observability/startup.js';
import { createRequestTracker } from '../../src/observability/requestTracker.js';

type Hooks = {
  onExecute(payload: { args: { document: unknown; operationName?: string; contextValue: unknown } }): void;
  onSubgraphExecute(payload: {
    subgraphName: string;
    executionRequest: { context: unknown };
    executor: (request: unknown) => Promise<unknown>;
    setExecutor(executor: (request: unknown) => Promise<unknown>): void;
  }): void;
};

describe('request tracker', () => {
  test('two concurrent requests sending the same X-Request-Id keep their own operation and subgraph errors', async () => {
    const tracker = createRequestTracker();
    const hooks = tracker.plugin as unknown as Hooks;
    const headers = { 'x-request-id': 'same-id' };
    const first = new Request('http://gateway.test/graphql', { headers });
    const second = new Request('http://gateway.test/graphql', { headers });
    hooks.onExecute({ args: { document: parse('query First { a }'), contextValue: { request: first } } });
    hooks.onExecute({ args: { document: parse('query Second { a }'), contextValue: { request: second } } });
    let executor: ((request: unknown) => Promise<unknown>) | undefined;
    hooks.onSubgraphExecute({
      subgraphName: 'products',
      executionRequest: { context: { request: second } },
      executor: async () => ({ errors: [{ message: 'down' }] }),
      setExecutor: (e) => (executor = e),
    });
    await executor!({});

    const a = tracker.take(first);
    const b = tracker.take(second);
    assert.equal(a?.operation, 'First');
    assert.deepEqual(a?.subgraphErrors, {});
    assert.equal(b?.operation, 'Second');
    assert.deepEqual(b?.subgraphErrors, { products: 1 });
    assert.equal(tracker.take(first), undefined, 'taken once');
  });
});

describe('start-up configuration line', () => {
  test('maxTokens is shown; the secrets are "[set]"', () => {
    const secrets = { METRICS_TOKEN: 'a-long-enough-metrics-token', LOG_SALT: 'pepper', UPSTASH_REDIS_REST_TOKEN: 'upstash-secret' };
    const env = { ...secrets, MAX_TOKENS: '500', UPSTASH_REDIS_REST_URL: 'https://example.upstash.io' };
    const line = effectiveConfig(parseConfig(env, 'node'));
    assert.equal((line['security'] as Record<string, unknown>)['maxTokens'], 500);
    assert.equal(line['metricsToken'], '[set]');
    assert.equal(line['logSalt'], '[set]');
    assert.equal(line['upstashToken'], '[set]');
    assert.doesNotMatch(JSON.stringify(line), /a-long-enough|pepper|upstash-secret/);
  });
});

describe('query planner option', () => {
  test('one mapping from QUERY_PLANNER to the runtime option, for Tollgate and the bare bench runtime', () => {
    assert.equal(unifiedGraphHandlerFor('js'), undefined);
    assert.equal(unifiedGraphHandlerFor(undefined), undefined);
    assert.equal(typeof unifiedGraphHandlerFor('rust'), 'function');
  });
});

describe('store settings, checked in one place', () => {
  test('createStore refuses what the configuration parser refuses, naming the variable', () => {
    const log = createLogger('error', () => {});
    const refused: [StoreConfig, RegExp][] = [
      [{ upstashUrl: 'ftp://x.upstash.io', upstashToken: 't', timeoutMs: 50 }, /UPSTASH_REDIS_REST_URL: expected an http/],
      [{ upstashUrl: 'https://x.upstash.io', timeoutMs: 50 }, /UPSTASH_REDIS_REST_TOKEN: expected to be set together/],
      [{ upstashToken: 't', timeoutMs: 50 }, /UPSTASH_REDIS_REST_URL: expected to be set together/],
      [{ redisUrl: 'redis://x', upstashUrl: 'https://x.upstash.io', upstashToken: 't', timeoutMs: 50 }, /REDIS_URL/],
    ];
    for (const [settings, message] of refused) assert.throws(() => createStore(settings, { log }), message);
  });
});
