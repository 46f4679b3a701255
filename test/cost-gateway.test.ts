// Query cost through the whole Node gateway (createTollgate, node:http, the demo subgraphs over
// HTTP), with each query planner: operations priced before the rate limit, MAX_COST refusing an
// operation before any subgraph call, a budget spent in cost (a token bucket) refusing an
// operation dearer than its whole capacity, the actual cost, refunds, extensions.cost and
// batches. Exactness under concurrency, in every store: cost-exactness.test.ts.
// The demo graph has no cost directives: a list is priced at COST_DEFAULT_LIST_SIZE (10), an
// object at 1, so `me { id }` costs 1 and seven aliases of it cost 7.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { QueryPlanner } from '../src/gateway/planner.js';
import { Redis } from 'ioredis';
import { silentLogger } from '../src/log.js';
import { createStore } from '../src/ratelimit/createStore.js';
import { startCostSubgraphs } from './support/costSubgraphs.js';
import { countingDemoSubgraphs, type CountingSubgraphs } from './support/countingSubgraphs.js';
import { closeDemo, postQuery, startTestGateway, type TestGateway } from './support/gateway.js';
import { deleteKeys, uniquePrefix } from './support/redis-server.js';

const sevenQuery = `{ ${Array.from({ length: 7 }, (_, i) => `m${i}: me { id }`).join(' ')} }`;
const listQuery = '{ topProducts { name } }'; // 10 products assumed × 1
/** Estimated 10 (an unannotated list), actually 2: the demo returns the two products asked for. */
const twoOfTen = '{ topProducts(first: 2) { name } }';

interface ErrorBody {
  errors?: { message: string; extensions: Record<string, unknown> }[];
  data?: unknown;
  extensions?: { cost?: Record<string, unknown> };
}

async function send(url: string, query: string): Promise<{ status: number; body: ErrorBody; headers: Headers }> {
  const response = await postQuery(url, query);
  return { status: response.status, body: (await response.json()) as ErrorBody, headers: response.headers };
}

const planners: readonly QueryPlanner[] = ['rust', 'js'];

for (const planner of planners) {
  describe(`query cost in the Node gateway, ${planner} planner`, () => {
    const gateways: TestGateway[] = [];
    let subgraphs: CountingSubgraphs;
    before(async () => {
      subgraphs = await countingDemoSubgraphs();
    });
    after(async () => {
      await Promise.all(gateways.map((g) => g.close()));
      await subgraphs.close();
      await closeDemo();
    });
    const start = async (env: Record<string, string>): Promise<TestGateway> => {
      const gateway = await startTestGateway({ QUERY_PLANNER: planner, ...env }, { supergraphSdl: subgraphs.supergraphSdl });
      gateways.push(gateway);
      return gateway;
    };

    test('MAX_COST: an operation over it is answered 400 COST_ESTIMATED_TOO_EXPENSIVE without a subgraph call; one under it is served', async () => {
      const gateway = await start({ MAX_COST: '9' });
      assert.equal(gateway.config.queryPlanner, planner);
      const callsBefore = subgraphs.calls();
      const refused = await send(gateway.url, listQuery);
      assert.equal(refused.status, 400);
      assert.equal(refused.body.errors?.[0]?.extensions['code'], 'COST_ESTIMATED_TOO_EXPENSIVE');
      assert.equal(refused.body.errors?.[0]?.extensions['estimatedCost'], 10);
      assert.equal(refused.body.errors?.[0]?.extensions['maxCost'], 9);
      assert.equal(refused.headers.get('ratelimit'), '"default";r=49;t=60', 'a refused operation still counts as a request');
      assert.equal(subgraphs.calls(), callsBefore, 'no subgraph was called');
      const line = gateway.logs.find((l) => l['msg'] === 'request' && l['status'] === 400);
      assert.equal(line?.['gatewayMs'], undefined, 'the runtime was never called');
      const served = await send(gateway.url, sevenQuery);
      assert.equal(served.status, 200);
      assert.deepEqual(served.body.data, Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`m${i}`, { id: '1' }])));
      assert.ok(subgraphs.calls() > callsBefore, 'the served operation reached the subgraphs');
      // A malformed document is the runtime's to answer, as without pricing.
      assert.equal((await send(gateway.url, '{ me { id }')).body.errors?.[0]?.extensions['code'], 'GRAPHQL_PARSE_FAILED');
    });

    test('every way the runtime takes an operation is priced (JSON, application/graphql, a form, GET), and what runs is what was priced', async () => {
      const gateway = await start({ MAX_COST: '9' });
      const post = (contentType: string, body: string) =>
        fetch(`${gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/json' }, body });
      const form = (query: string) => `query=${encodeURIComponent(query)}`;
      const bodies: [string, (query: string) => string][] = [
        ['application/json', (query) => JSON.stringify({ query })],
        ['application/json; charset=utf-8', (query) => JSON.stringify({ query })],
        ['application/graphql+json', (query) => JSON.stringify({ query })],
        ['application/graphql', (query) => query],
        ['application/x-www-form-urlencoded', form],
      ];
      const callsBefore = subgraphs.calls();
      for (const [type, body] of bodies) {
        const refused = await post(type, body(listQuery));
        assert.equal(refused.status, 400, type);
        assert.equal(((await refused.json()) as ErrorBody).errors?.[0]?.extensions['code'], 'COST_ESTIMATED_TOO_EXPENSIVE', type);
        const served = await post(type, body('{ me { id } }'));
        assert.deepEqual(await served.json(), { data: { me: { id: '1' } } }, type);
      }
      const get = await fetch(`${gateway.url}/graphql?query=${encodeURIComponent(listQuery)}`, { headers: { accept: 'application/json' } });
      assert.equal(get.status, 400);
      await get.arrayBuffer();
      assert.equal(subgraphs.calls() - callsBefore, bodies.length, 'only the operations under the ceiling reached a subgraph');
      // What does not parse is the runtime's to answer, as without pricing.
      const broken = await post('application/json', '{ "query": ');
      assert.equal(broken.status, 400);
      assert.match(JSON.stringify(await broken.json()), /invalid JSON/);
      const notAnObject = await post('application/json', 'null');
      assert.equal(notAnObject.status, 400);
      assert.match(JSON.stringify(await notAnObject.json()), /expected to be object/);
    });

    test('a token bucket in cost: an operation dearer than the whole capacity is refused 400 naming the policy and spends nothing', async () => {
      const gateway = await start({
        RATE_LIMIT_POLICIES: JSON.stringify([
          { name: 'requests', key: 'ip', limit: 100, window: 60 },
          { name: 'points', key: 'ip', unit: 'cost', algorithm: 'token-bucket', limit: 8, refillPerSecond: 1 },
        ]),
      });
      const callsBefore = subgraphs.calls();
      const tooDear = await send(gateway.url, listQuery);
      assert.equal(tooDear.status, 400);
      assert.equal(tooDear.body.errors?.[0]?.extensions['code'], 'COST_ESTIMATED_TOO_EXPENSIVE');
      assert.equal(tooDear.body.errors?.[0]?.extensions['policy'], 'points');
      assert.equal(subgraphs.calls(), callsBefore, 'no subgraph was called');
      const first = await send(gateway.url, sevenQuery);
      assert.equal(first.status, 200, 'the refused operation took nothing from the bucket');
      const second = await send(gateway.url, sevenQuery);
      assert.equal(second.status, 429, '1 token left of 8');
      assert.equal(second.body.errors?.[0]?.extensions['policy'], 'points');
      const retryAfter = Number(second.headers.get('retry-after'));
      assert.ok(retryAfter >= 5 && retryAfter <= 7, `6 tokens refill in 6 s: retry-after ${retryAfter}`);
    });

    test('refund: a budget of 30 in cost gives back what an operation cost less than estimated — estimated 10, costing 2: 11 pass in turn, not 3', async () => {
      const policy = { name: 'cost', key: 'ip', unit: 'cost', limit: 30, window: 60 };
      const refunding = await start({ RATE_LIMIT_POLICIES: JSON.stringify([{ ...policy, refund: true }]) });
      const plain = await start({ RATE_LIMIT_POLICIES: JSON.stringify([policy]) });
      const passes = async (url: string): Promise<number> => {
        let passed = 0;
        for (let i = 0; i < 15; i++) if ((await send(url, twoOfTen)).status === 200) passed++;
        return passed;
      };
      // Each charge is 10 and 8 comes back: 2 × 10 + 10 = 30 is the 11th.
      assert.equal(await passes(refunding.url), 11);
      assert.equal(await passes(plain.url), 3);
      const line = refunding.logs.find((l) => l['msg'] === 'request' && l['status'] === 200);
      assert.deepEqual({ cost: line?.['cost'], actualCost: line?.['actualCost'] }, { cost: 10, actualCost: 2 });
    });

    test('an operation that returned errors gets nothing back; a one-operation batch carries no extensions.cost', async () => {
      const gateway = await start({
        BATCH_LIMIT: '5',
        COST_EXTENSIONS: 'true',
        RATE_LIMIT_POLICIES: JSON.stringify([{ name: 'cost', key: 'ip', unit: 'cost', limit: 30, window: 60, refund: true }]),
      });
      // Estimated 10 + 0, actually 2: but `boom` failed, and what failed may have cost as estimated.
      const failing = await send(gateway.url, '{ topProducts(first: 2) { name } boom }');
      assert.equal(failing.status, 200);
      assert.ok(failing.body.errors?.length, 'boom failed');
      assert.equal(failing.body.extensions?.cost?.['actualQueryCost'], 2);
      assert.deepEqual(failing.body.extensions?.cost?.['throttleStatus'], {
        maximumAvailable: 30,
        currentlyAvailable: 20,
        restoreRate: 0,
        resetsInSeconds: 60,
      });
      assert.equal(
        (await send(gateway.url, twoOfTen)).headers.get('ratelimit'),
        '"cost";r=10;t=60;tollgate-unit="cost"',
        'nothing came back',
      );
      const batch = await fetch(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify([{ query: '{ me { id } }' }]),
      });
      const results = (await batch.json()) as ErrorBody[];
      assert.equal(results.length, 1);
      assert.equal(results[0]!.extensions, undefined);
    });

    test('COST_EXTENSIONS: extensions.cost in Shopify’s names — a token bucket’s state after the refund; cost policies marked in the RateLimit headers', async () => {
      const gateway = await start({
        COST_EXTENSIONS: 'true',
        RATE_LIMIT_POLICIES: JSON.stringify([
          { name: 'requests', key: 'ip', limit: 100, window: 60 },
          { name: 'points', key: 'ip', unit: 'cost', algorithm: 'token-bucket', limit: 100, refillPerSecond: 0.01, refund: true },
        ]),
      });
      const first = await send(gateway.url, twoOfTen);
      assert.equal(first.status, 200);
      assert.deepEqual(first.body.extensions?.cost, {
        requestedQueryCost: 10,
        actualQueryCost: 2,
        throttleStatus: { maximumAvailable: 100, currentlyAvailable: 98, restoreRate: 0.01 },
      });
      assert.equal(first.headers.get('ratelimit-policy'), '"requests";q=100;w=60, "points";q=100;w=10000;tollgate-unit="cost"');
      // Reported: the smaller share left, points' 90 of 100 as decided (before the refund).
      assert.equal(first.headers.get('ratelimit'), '"points";r=90;t=1000;tollgate-unit="cost"');
      const second = await send(gateway.url, twoOfTen);
      assert.deepEqual(second.body.extensions?.cost?.['throttleStatus'], {
        maximumAvailable: 100,
        currentlyAvailable: 96,
        restoreRate: 0.01,
      });
    });

    test('COST_EXTENSIONS with a fixed window: restoreRate 0 and the seconds until the window resets; no extension without a cost policy', async () => {
      const gateway = await start({
        COST_EXTENSIONS: 'true',
        RATE_LIMIT_POLICIES: JSON.stringify([{ name: 'budget', key: 'ip', unit: 'cost', limit: 50, window: 60 }]),
      });
      const requestsOnly = await start({ COST_EXTENSIONS: 'true', MAX_COST: '100' });
      const answer = await send(gateway.url, twoOfTen);
      assert.deepEqual(answer.body.extensions?.cost, {
        requestedQueryCost: 10,
        actualQueryCost: 2,
        throttleStatus: { maximumAvailable: 50, currentlyAvailable: 40, restoreRate: 0, resetsInSeconds: 60 },
      });
      const plain = await send(requestsOnly.url, twoOfTen);
      assert.equal(plain.status, 200);
      assert.equal(plain.body.extensions, undefined);
    });

    test('BATCH_LIMIT: a batch is priced as the sum of its operations, and its actual cost too; without batching an array is not priced', async () => {
      const policies = JSON.stringify([{ name: 'cost', key: 'ip', unit: 'cost', limit: 30, window: 60 }]);
      const gateway = await start({ BATCH_LIMIT: '5', RATE_LIMIT_POLICIES: policies });
      const unbatched = await start({ RATE_LIMIT_POLICIES: policies });
      const batch = (url: string) =>
        fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify([{ query: twoOfTen }, { query: sevenQuery }]),
        });
      const response = await batch(gateway.url);
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as unknown[]).length, 2);
      assert.equal(response.headers.get('ratelimit'), '"cost";r=13;t=60;tollgate-unit="cost"', '30 − (10 + 7)');
      const line = gateway.logs.find((l) => l['msg'] === 'request' && l['status'] === 200);
      assert.deepEqual({ cost: line?.['cost'], actualCost: line?.['actualCost'] }, { cost: 17, actualCost: 9 });
      const refused = await batch(unbatched.url);
      assert.equal(refused.status, 400, 'batching is off: the runtime refuses the array');
      await refused.arrayBuffer();
      assert.equal(refused.headers.get('ratelimit'), '"cost";r=30;t=60;tollgate-unit="cost"', 'and nothing was charged');
    });

    test('on subgraphs with @cost and @listSize: the estimate at first: 1, 10, 100 beside the actual cost (a catalog of 25 books)', async (t) => {
      const subgraphs = await startCostSubgraphs();
      try {
        const gateway = await startTestGateway(
          {
            QUERY_PLANNER: planner,
            COST_EXTENSIONS: 'true',
            RATE_LIMIT_POLICIES: JSON.stringify([{ name: 'points', key: 'ip', unit: 'cost', limit: 1_000_000, window: 60 }]),
          },
          { supergraphSdl: subgraphs.supergraph },
        );
        gateways.push(gateway);
        const rows: [number, unknown, unknown][] = [];
        for (const n of [1, 10, 100]) {
          const answer = await send(gateway.url, `{ topBooks(first: ${n}) { title price related(first: ${n}) { title } } }`);
          assert.equal(answer.status, 200, JSON.stringify(answer.body.errors));
          rows.push([n, answer.body.extensions?.cost?.['requestedQueryCost'], answer.body.extensions?.cost?.['actualQueryCost']]);
        }
        // Each book: 5, its price (Money) 2, each related book 5. At 100 the catalog returns 25 of each list.
        assert.deepEqual(rows, [
          [1, 12, 12],
          [10, 570, 570],
          [100, 50_700, 3_300],
        ]);
        for (const [n, estimate, actual] of rows) t.diagnostic(`| first: ${n} | ${estimate} | ${actual} |`);
      } finally {
        await subgraphs.close();
      }
    });
  });
}

describe('query cost on a shared Redis', () => {
  const gateways: TestGateway[] = [];
  after(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await closeDemo();
  });

  test('on Redis: the refund reaches the shared store — 11 of 15 pass in turn against a budget of 30', async () => {
    const prefix = uniquePrefix('cost-refund');
    const admin = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    await admin.connect();
    const store = createStore({ redisUrl: 'redis://127.0.0.1:6379', keyPrefix: prefix, timeoutMs: 2000 }, { log: silentLogger });
    try {
      const gateway = await startTestGateway(
        { RATE_LIMIT_POLICIES: JSON.stringify([{ name: 'cost', key: 'ip', unit: 'cost', limit: 30, window: 60, refund: true }]) },
        { store },
      );
      gateways.push(gateway);
      await store.connect?.(AbortSignal.timeout(5000));
      let passed = 0;
      for (let i = 0; i < 15; i++) if ((await send(gateway.url, twoOfTen)).status === 200) passed++;
      assert.equal(passed, 11);
    } finally {
      await deleteKeys(admin, prefix);
      admin.disconnect();
    }
  });
});
