// Query cost through the whole Node gateway (createTollgate, node:http, the demo subgraphs over
// HTTP): operations priced before the rate limit, MAX_COST refusing an operation before any
// subgraph call, budgets spent in cost (fixed window and token bucket) exact under concurrency in
// memory and on a real Redis, and an operation dearer than a budget's whole capacity refused.
// The demo graph has no cost directives: a list is priced at COST_DEFAULT_LIST_SIZE (10), an
// object at 1, so `me { id }` costs 1 and seven aliases of it cost 7.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { silentLogger } from '../src/log.js';
import { createStore } from '../src/ratelimit/createStore.js';
import { closeDemo, postQuery, startTestGateway, type TestGateway } from './support/gateway.js';
import { deleteKeys, uniquePrefix } from './support/redis-server.js';

const sevenQuery = `{ ${Array.from({ length: 7 }, (_, i) => `m${i}: me { id }`).join(' ')} }`;
const listQuery = '{ topProducts { name } }'; // 10 products assumed × 1

interface ErrorBody {
  errors?: { message: string; extensions: Record<string, unknown> }[];
  data?: unknown;
}

async function send(url: string, query: string): Promise<{ status: number; body: ErrorBody; headers: Headers }> {
  const response = await postQuery(url, query);
  return { status: response.status, body: (await response.json()) as ErrorBody, headers: response.headers };
}

describe('query cost in the Node gateway', () => {
  const gateways: TestGateway[] = [];
  after(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await closeDemo();
  });

  test('MAX_COST: an operation over it is answered 400 COST_ESTIMATED_TOO_EXPENSIVE without reaching the gateway; one under it is served', async () => {
    const gateway = await startTestGateway({ MAX_COST: '9' });
    gateways.push(gateway);
    const refused = await send(gateway.url, listQuery);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.errors?.[0]?.extensions['code'], 'COST_ESTIMATED_TOO_EXPENSIVE');
    assert.equal(refused.body.errors?.[0]?.extensions['estimatedCost'], 10);
    assert.equal(refused.body.errors?.[0]?.extensions['maxCost'], 9);
    assert.equal(refused.headers.get('ratelimit'), '"default";r=49;t=60', 'a refused operation still counts as a request');
    const line = gateway.logs.find((l) => l['msg'] === 'request' && l['status'] === 400);
    assert.equal(line?.['gatewayMs'], undefined, 'the runtime was never called');
    const served = await send(gateway.url, sevenQuery);
    assert.equal(served.status, 200);
    assert.ok(served.body.data);
    // A malformed document is the runtime's to answer, as without pricing.
    assert.equal((await send(gateway.url, '{ me { id }')).body.errors?.[0]?.extensions['code'], 'GRAPHQL_PARSE_FAILED');
  });

  test('a fixed-window budget of 1000 in cost: 200 concurrent operations of cost 7 pass exactly 142 times', async () => {
    const gateway = await startTestGateway({
      RATE_LIMIT_POLICIES: JSON.stringify([{ name: 'cost', key: 'ip', unit: 'cost', limit: 1000, window: 60 }]),
    });
    gateways.push(gateway);
    const answers = await Promise.all(Array.from({ length: 200 }, () => send(gateway.url, sevenQuery)));
    assert.equal(answers.filter((a) => a.status === 200).length, 142);
    const rejected = answers.filter((a) => a.status === 429);
    assert.equal(rejected.length, 58);
    assert.equal(rejected[0]!.body.errors?.[0]?.extensions['policy'], 'cost');
    // 1000 − 142 × 7 = 6 left: a cost-1 operation still passes, a cost-7 one does not.
    assert.equal((await send(gateway.url, '{ me { id } }')).status, 200);
  });

  test('a token bucket in cost: an operation dearer than the whole capacity is refused 400 naming the policy and spends nothing', async () => {
    const gateway = await startTestGateway({
      RATE_LIMIT_POLICIES: JSON.stringify([
        { name: 'requests', key: 'ip', limit: 100, window: 60 },
        { name: 'points', key: 'ip', unit: 'cost', algorithm: 'token-bucket', limit: 8, refillPerSecond: 1 },
      ]),
    });
    gateways.push(gateway);
    const tooDear = await send(gateway.url, listQuery);
    assert.equal(tooDear.status, 400);
    assert.equal(tooDear.body.errors?.[0]?.extensions['code'], 'COST_ESTIMATED_TOO_EXPENSIVE');
    assert.equal(tooDear.body.errors?.[0]?.extensions['policy'], 'points');
    const first = await send(gateway.url, sevenQuery);
    assert.equal(first.status, 200, 'the refused operation took nothing from the bucket');
    const second = await send(gateway.url, sevenQuery);
    assert.equal(second.status, 429, '1 token left of 8');
    assert.equal(second.body.errors?.[0]?.extensions['policy'], 'points');
    const retryAfter = Number(second.headers.get('retry-after'));
    assert.ok(retryAfter >= 5 && retryAfter <= 7, `6 tokens refill in 6 s: retry-after ${retryAfter}`);
  });

  test('on Redis: 200 concurrent operations of cost 7 against a budget of 1000 pass exactly 142 times', async () => {
    const prefix = uniquePrefix('cost-gw');
    const admin = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    await admin.connect();
    const store = createStore({ redisUrl: 'redis://127.0.0.1:6379', keyPrefix: prefix, timeoutMs: 2000 }, { log: silentLogger });
    try {
      const gateway = await startTestGateway(
        { RATE_LIMIT_POLICIES: JSON.stringify([{ name: 'cost', key: 'ip', unit: 'cost', limit: 1000, window: 60 }]) },
        { store },
      );
      gateways.push(gateway);
      await store.connect?.(AbortSignal.timeout(5000));
      const answers = await Promise.all(Array.from({ length: 200 }, () => send(gateway.url, sevenQuery)));
      assert.equal(answers.filter((a) => a.status === 200).length, 142);
      assert.equal(answers.filter((a) => a.status === 429).length, 58);
      const unshared = gateway.logs.filter(
        (l) => l['msg'] === 'request' && l['rateLimitSource'] !== undefined && l['rateLimitSource'] !== 'local-cache',
      );
      assert.deepEqual(unshared, [], 'every decision was the store’s');
    } finally {
      await deleteKeys(admin, prefix);
      admin.disconnect();
    }
  });
});
