// Query cost in workerd with the built bundle (npm run build:worker), on the in-isolate demo
// graph: MAX_COST refuses an operation before the runtime, and a budget in cost is spent exactly
// under concurrency through the Durable Object store (200 operations of cost 7 against 1000:
// exactly ⌊1000/7⌋ = 142 pass).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startWorker, type TestWorker } from './support/worker.js';

const sevenQuery = `{ ${Array.from({ length: 7 }, (_, i) => `m${i}: me { id }`).join(' ')} }`;

describe('query cost in workerd (built bundle)', () => {
  let worker: TestWorker;
  before(async () => {
    worker = await startWorker(
      {
        MAX_COST: '9',
        RATE_LIMIT_STORE: 'durable-object',
        RATE_LIMIT_TIMEOUT_MS: '2000',
        RATE_LIMIT_POLICIES: JSON.stringify([
          { name: 'requests', key: 'ip', limit: 1000, window: 60 },
          { name: 'cost', key: 'ip', unit: 'cost', limit: 100, window: 60 },
        ]),
      },
      { durableObjects: { RATE_LIMITER: { className: 'RateLimiterObject', useSQLite: true } } },
    );
  });
  after(async () => {
    await worker?.dispose();
  });

  const post = async (query: string, clientIp: string) => {
    const response = await worker.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
      clientIp,
    });
    return { status: response.status, body: (await response.json()) as { errors?: { extensions: Record<string, unknown> }[] } };
  };

  test('MAX_COST: 400 COST_ESTIMATED_TOO_EXPENSIVE with the estimate and the maximum', async () => {
    const refused = await post('{ topProducts { name } }', '192.0.2.1');
    assert.equal(refused.status, 400);
    assert.deepEqual(
      { code: refused.body.errors?.[0]?.extensions['code'], estimatedCost: refused.body.errors?.[0]?.extensions['estimatedCost'] },
      { code: 'COST_ESTIMATED_TOO_EXPENSIVE', estimatedCost: 10 },
    );
    assert.equal((await post('{ me { id } }', '192.0.2.1')).status, 200);
  });

  test('a budget of 100 in cost: 30 concurrent operations of cost 7 pass exactly 14 times', async () => {
    const answers = await Promise.all(Array.from({ length: 30 }, () => post(sevenQuery, '198.51.100.30')));
    assert.equal(answers.filter((a) => a.status === 200).length, 14);
    for (const a of answers.filter((a) => a.status === 429)) assert.equal(a.body.errors?.[0]?.extensions['policy'], 'cost');
  });
});

describe('a budget in cost is exact under concurrency in workerd, Durable Object store', () => {
  let worker: TestWorker;
  before(async () => {
    worker = await startWorker(
      {
        RATE_LIMIT_STORE: 'durable-object',
        RATE_LIMIT_TIMEOUT_MS: '5000',
        RATE_LIMIT_POLICIES: JSON.stringify([{ name: 'cost', key: 'ip', unit: 'cost', limit: 1000, window: 60 }]),
      },
      { durableObjects: { RATE_LIMITER: { className: 'RateLimiterObject', useSQLite: true } } },
    );
  });
  after(async () => {
    await worker?.dispose();
  });

  test('200 concurrent operations of cost 7 against a budget of 1000 pass exactly 142 times, each remaining balance handed out once', async () => {
    const answers = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const response = await worker.fetch('/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: sevenQuery }),
          clientIp: '203.0.113.142',
        });
        const body = (await response.json()) as { errors?: { extensions: Record<string, unknown> }[] };
        return { status: response.status, rateLimit: response.headers.get('ratelimit'), body };
      }),
    );
    const passed = answers.filter((a) => a.status === 200);
    const rejected = answers.filter((a) => a.status === 429);
    assert.deepEqual({ passed: passed.length, rejected: rejected.length }, { passed: 142, rejected: 58 });
    for (const a of rejected) assert.equal(a.body.errors?.[0]?.extensions['policy'], 'cost');
    const remaining = passed.map((a) => Number(/;r=(\d+)/.exec(a.rateLimit ?? '')?.[1])).sort((x, y) => x - y);
    assert.deepEqual(
      remaining,
      Array.from({ length: 142 }, (_, i) => 6 + 7 * i),
    );
    const unshared = worker.logs.filter(
      (l) => l['msg'] === 'request' && l['rateLimitSource'] !== undefined && l['rateLimitSource'] !== 'local-cache',
    );
    assert.deepEqual(unshared, [], 'every decision was the Durable Object’s');
  });
});

describe('actual cost and refunds in workerd (built bundle, Durable Object store)', () => {
  let worker: TestWorker;
  before(async () => {
    worker = await startWorker(
      {
        COST_EXTENSIONS: 'true',
        RATE_LIMIT_STORE: 'durable-object',
        RATE_LIMIT_TIMEOUT_MS: '2000',
        RATE_LIMIT_POLICIES: JSON.stringify([{ name: 'cost', key: 'ip', unit: 'cost', limit: 30, window: 60, refund: true }]),
      },
      { durableObjects: { RATE_LIMITER: { className: 'RateLimiterObject', useSQLite: true } } },
    );
  });
  after(async () => {
    await worker?.dispose();
  });

  test('estimated 10, costing 2: extensions.cost says so, the refund reaches the object through waitUntil, and 11 pass in turn against 30', async () => {
    const twoOfTen = '{ topProducts(first: 2) { name } }';
    let passed = 0;
    let first: Record<string, unknown> | undefined;
    for (let i = 0; i < 15; i++) {
      const response = await worker.fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: twoOfTen }),
        clientIp: '198.51.100.31',
      });
      const body = (await response.json()) as { extensions?: { cost?: Record<string, unknown> } };
      if (response.status === 200) passed++;
      first ??= body.extensions?.cost;
      // The refund is off the request's path: give it a moment to land before the next charge.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(first, {
      requestedQueryCost: 10,
      actualQueryCost: 2,
      throttleStatus: { maximumAvailable: 30, currentlyAvailable: 28, restoreRate: 0, resetsInSeconds: 60 },
    });
    assert.equal(passed, 11);
  });
});
