/**
 * Workers have no scrape endpoint: each request's log line carries the figures the
 * Prometheus metrics count on Node, so Workers Logs / Logpush can aggregate them. The built
 * bundle in workerd through Miniflare.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { closeDemo, demoSubgraphs } from './support/gateway.js';
import { serveText, startWorker, type TestWorker } from './support/worker.js';

type Line = Record<string, unknown>;

let supergraph: { url: string; close(): Promise<void> } | undefined;
let worker: TestWorker;
const salt = 'worker-log-salt-for-tests';

before(async () => {
  const demo = await demoSubgraphs();
  supergraph = await serveText(demo.supergraphSdl);
  worker = await startWorker({ SUPERGRAPH: supergraph.url, LOG_SALT: salt, RATE_LIMIT_MAX_REQUESTS: '3' });
});
after(async () => {
  await worker?.dispose();
  await supergraph?.close();
  await closeDemo();
});

const query = (q: string, clientIp: string, requestId: string) =>
  worker.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ query: q }),
    clientIp,
  });

describe('Worker request lines carry the metrics', () => {
  test('operation, decision, hashed client, subgraph errors; aggregated like Workers Logs would', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await query('query Boom { boom }', '192.0.2.10', `w-boom-${i}`);
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    const lines: Line[] = [];
    for (let i = 0; i < 4; i++) {
      lines.push(await worker.waitForLog((l) => l['msg'] === 'request' && l['requestId'] === `w-boom-${i}`));
    }

    const client = createHmac('sha256', salt).update('192.0.2.10').digest('hex').slice(0, 16);
    for (const line of lines) {
      assert.equal(line['client'], client);
      assert.equal(line['path'], '/graphql');
      assert.equal(typeof line['ms'], 'number');
      assert.equal(typeof line['rateLimitMs'], 'number');
    }
    assert.deepEqual(
      lines.slice(0, 3).map((l) => [l['operation'], l['status'], l['subgraphErrors']]),
      [
        ['Boom', 200, { products: 1 }],
        ['Boom', 200, { products: 1 }],
        ['Boom', 200, { products: 1 }],
      ],
    );
    assert.equal(lines[3]!['operation'], undefined, 'not executed');

    // What a Workers Logs query (count by rateLimitDecision, sum of subgraphErrors.products) gives.
    const byDecision: Record<string, number> = {};
    let productErrors = 0;
    for (const line of lines) {
      const decision = String(line['rateLimitDecision']);
      byDecision[decision] = (byDecision[decision] ?? 0) + 1;
      productErrors += Number((line['subgraphErrors'] as Record<string, number> | undefined)?.['products'] ?? 0);
    }
    assert.deepEqual(byDecision, { allowed: 3, limited: 1 });
    assert.equal(productErrors, 3);
    assert.ok(!JSON.stringify(worker.logs).includes('192.0.2.10'), 'no line holds the client address');
  });

  test('one start-up line per isolate with the effective configuration minus secrets', async () => {
    const started = worker.logs.filter((l) => l['msg'] === 'started');
    assert.equal(started.length, 1);
    assert.equal(started[0]!['platform'], 'worker');
    const config = started[0]!['config'] as Record<string, unknown>;
    assert.equal(config['logSalt'], '[set]');
    assert.equal(config['metricsEndpoint'], 'off', 'no scrape endpoint on Workers');
    assert.equal(config['trustProxy'], 'cloudflare');
    assert.ok(!JSON.stringify(worker.logs).includes(salt), 'the salt is never logged');
    const response = await worker.fetch('/metrics');
    await response.arrayBuffer();
    assert.equal(response.status, 404);
  });
});
