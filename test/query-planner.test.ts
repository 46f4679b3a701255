import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { parseConfig } from '../src/config.js';
import { closeDemo, crossSubgraphQuery, postQuery, startTestGateway } from './support/gateway.js';

after(closeDemo);

describe('QUERY_PLANNER', () => {
  test('the Rust planner (Node) answers exactly what the JavaScript planner answers', async () => {
    const queries = [
      crossSubgraphQuery,
      '{ users { id name reviews { body product { upc name price reviews { author { username } } } } } }',
      '{ topProducts(first: 2) { name } me { name } }',
      '{ boom topProducts(first: 1) { name } }',
    ];
    const answers: Record<string, string[]> = {};
    for (const planner of ['js', 'rust']) {
      const gw = await startTestGateway({ QUERY_PLANNER: planner, RATE_LIMIT_ENABLED: 'false' });
      try {
        answers[planner] = [];
        for (const query of queries) {
          const response = await postQuery(gw.url, query);
          assert.equal(response.status, 200, `${planner}: ${query}`);
          const body = (await response.json()) as { data?: unknown; errors?: { message: string }[] };
          answers[planner]!.push(JSON.stringify({ data: body.data, errors: body.errors?.map((e) => e.message) }));
        }
      } finally {
        await gw.close();
      }
    }
    assert.deepEqual(answers['rust'], answers['js']);
    assert.ok(answers['js']![0]!.includes('Ada Lovelace'));
  });

  test('rust is the default on Node, js on Workers, where a native addon cannot load (rust refused there)', () => {
    assert.equal(parseConfig({}, 'node').queryPlanner, 'rust');
    assert.equal(parseConfig({ QUERY_PLANNER: 'js' }, 'node').queryPlanner, 'js');
    assert.equal(parseConfig({}, 'worker').queryPlanner, 'js');
    assert.equal(parseConfig({ QUERY_PLANNER: 'rust' }, 'node').queryPlanner, 'rust');
    assert.throws(() => parseConfig({ QUERY_PLANNER: 'rust' }, 'worker'), /QUERY_PLANNER/);
    assert.throws(() => parseConfig({ QUERY_PLANNER: 'fast' }, 'node'), /QUERY_PLANNER="fast": expected one of js, rust/);
  });
});
