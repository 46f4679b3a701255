import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { supergraphVersion } from '../src/supergraph/version.js';
import { runGatewayExpectingFailure, startGatewayProcess } from './support/process.js';
import { startHiveCdn } from './support/registries.js';
import { askColor, readiness, twoColorGraphsForFile, waitFor } from './support/supergraphs.js';

const colorGraphs = twoColorGraphsForFile();

describe('Hive CDN as the supergraph source (Node)', () => {
  test('read with X-Hive-CDN-Key and ETag, a new artifact swapped in; the key is not logged', async () => {
    const graphs = colorGraphs();
    const cdn = await startHiveCdn('cdn-key-123', graphs.a);
    const gateway = await startGatewayProcess({
      HIVE_CDN_ENDPOINT: cdn.endpoint,
      HIVE_CDN_KEY: 'cdn-key-123',
      SUPERGRAPH_POLL_SECONDS: '1',
      RATE_LIMIT_ENABLED: 'false',
    });
    try {
      assert.deepEqual(await askColor(gateway.url), { status: 200, color: 'a' });
      await waitFor(() => cdn.requests.length >= 2, 10_000);
      assert.equal(cdn.requests[1]!.status, 304, 'unchanged: a 304');
      assert.equal(cdn.requests[1]!.ifNoneMatch, `"${supergraphVersion(graphs.a)}"`);
      cdn.set(graphs.b);
      await waitFor(async () => (await askColor(gateway.url)).color === 'b', 10_000);
      assert.equal((await readiness(gateway.url)).body['supergraph']['version'], supergraphVersion(graphs.b));
      assert.ok(cdn.requests.every((r) => r.key === 'cdn-key-123' && r.path === '/artifacts/v1/target-1/supergraph'));
      const started = gateway.logs.find((l) => l['msg'] === 'started');
      assert.equal(started?.['supergraph'], `Hive CDN ${cdn.endpoint}/supergraph`);
      assert.doesNotMatch(JSON.stringify(gateway.logs), /cdn-key-123/);
    } finally {
      assert.equal(await gateway.stop(), 0);
      await cdn.close();
    }
  });

  test('a wrong key stops start-up with one tollgate: line naming HIVE_CDN_ENDPOINT and the 403', async () => {
    const graphs = colorGraphs();
    const cdn = await startHiveCdn('right-key', graphs.a);
    try {
      const { code, stderr } = await runGatewayExpectingFailure({ HIVE_CDN_ENDPOINT: cdn.endpoint, HIVE_CDN_KEY: 'wrong-key' });
      assert.equal(code, 1);
      assert.deepEqual(
        stderr.split('\n').filter((l) => l.startsWith('tollgate:')),
        [`tollgate: Invalid HIVE_CDN_ENDPOINT="${cdn.endpoint}": expected a Hive CDN endpoint serving a supergraph (HTTP 403)`],
      );
      const alone = await runGatewayExpectingFailure({ HIVE_CDN_ENDPOINT: cdn.endpoint });
      assert.match(alone.stderr, /^tollgate: Invalid HIVE_CDN_KEY="": expected to be set together with the other HIVE_CDN_\* variable$/m);
    } finally {
      await cdn.close();
    }
  });
});
