import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertUpstreamLine, faultyReviews, partialQuery, type FaultySubgraph, type Mode } from './support/faultySubgraph.js';
import { closeDemo } from './support/gateway.js';
import { serveText, startWorker, type TestWorker } from './support/worker.js';

/**
 * Failed subgraph calls in the Worker bundle (workerd: its own `fetch` errors, the per-request
 * subgraph deadline of src/gateway/upstreamDeadline.ts, the JavaScript planner): the same codes, request ids and log lines as on
 * Node; in production nothing of the subgraph's address, the cause or the original error.
 */

const timeoutMs = 300;
const failures: { mode: Mode; code: string; cause: RegExp }[] = [
  // workerd says "Network connection lost." for a refused connection.
  { mode: 'down', code: 'SUBGRAPH_UNAVAILABLE', cause: /./ },
  { mode: 'html-500', code: 'DOWNSTREAM_SERVICE_ERROR', cause: /^HTTP 500$/ },
  { mode: 'slow', code: 'GATEWAY_TIMEOUT', cause: /timeout/i },
];

describe('Worker bundle: a failing subgraph gives a coded field error with the request id, and one log line', () => {
  let faulty: FaultySubgraph;
  let supergraph: { url: string; close(): Promise<void> };
  let production: TestWorker;
  let development: TestWorker;
  before(async () => {
    let supergraphSdl: string;
    ({ faulty, supergraphSdl } = await faultyReviews(timeoutMs * 3));
    supergraph = await serveText(supergraphSdl);
    const env = { SUPERGRAPH: supergraph.url, UPSTREAM_TIMEOUT_MS: String(timeoutMs), RATE_LIMIT_MAX_REQUESTS: '1000' };
    [production, development] = await Promise.all([startWorker(env), startWorker({ ...env, ENVIRONMENT: 'development' })]);
  });
  after(async () => {
    await Promise.all([production.dispose(), development.dispose()]);
    await faulty.close();
    await supergraph.close();
    await closeDemo();
  });

  async function ask(worker: TestWorker) {
    const response = await worker.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: partialQuery }),
      clientIp: '192.0.2.70',
    });
    const text = await response.text();
    const requestId = response.headers.get('x-request-id')!;
    const body = JSON.parse(text) as { data: any; errors: { message: string; extensions: Record<string, unknown> }[] };
    // Partial data: 200, as GraphQL-over-HTTP requires for a response with data.
    assert.equal(response.status, 200, text);
    assert.equal(body.data.topProducts.length, 5);
    assert.equal(body.data.product, null);
    const line = await worker.waitForLog((l) => l['msg'] === 'upstream error' && l['requestId'] === requestId);
    return { text, requestId, extensions: body.errors[0]!.extensions, line };
  }

  for (const { mode, code, cause } of failures) {
    test(`${mode}: ${code}; production says only that, development adds the subgraph and the cause`, async () => {
      await faulty.setMode(mode);
      const prod = await ask(production);
      assert.deepEqual(prod.extensions, { code, requestId: prod.requestId });
      assert.doesNotMatch(prod.text, /127\.0\.0\.1|originalError|"cause"|"serviceName"|Network connection|HTTP 500/, prod.text);
      assert.match(String(assertUpstreamLine(production.logs, prod.requestId, code)['cause']), cause);

      const dev = await ask(development);
      assert.deepEqual(dev.extensions, { code, requestId: dev.requestId, serviceName: 'reviews', cause: dev.line['cause'] });
      assert.match(String(dev.extensions['cause']), cause);
    });
  }

  test('no line either Worker wrote has an empty message', () => {
    const silent = [...production.logs, ...development.logs].filter((l) => typeof l['msg'] !== 'string' || l['msg'] === '');
    assert.deepEqual(silent, []);
  });
});
