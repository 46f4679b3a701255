// Query cost through the whole Node gateway (createTollgate, node:http, the demo subgraphs over
// HTTP), with each query planner: operations priced before the rate limit, MAX_COST refusing an
// operation before any subgraph call, and a budget spent in cost (a token bucket) refusing an
// operation dearer than its whole capacity. Exactness under concurrency, in every store:
// cost-exactness.test.ts.
// The demo graph has no cost directives: a list is priced at COST_DEFAULT_LIST_SIZE (10), an
// object at 1, so `me { id }` costs 1 and seven aliases of it cost 7.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { QueryPlanner } from '../src/gateway/planner.js';
import { countingDemoSubgraphs, type CountingSubgraphs } from './support/countingSubgraphs.js';
import { closeDemo, postQuery, startTestGateway, type TestGateway } from './support/gateway.js';

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
  });
}
