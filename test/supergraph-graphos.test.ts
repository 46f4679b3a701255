import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { supergraphVersion } from '../src/supergraph/version.js';
import { runGatewayExpectingFailure, startGatewayProcess } from './support/process.js';
import { startUplink } from './support/registries.js';
import { askColor, readiness, twoColorGraphsForFile, waitFor } from './support/supergraphs.js';

const colorGraphs = twoColorGraphsForFile();

describe('Apollo GraphOS as the supergraph source (Node)', () => {
  test('the SupergraphSdl query with ifAfterId: Unchanged reloads nothing, a new id is swapped in; the key is not logged', async () => {
    const graphs = colorGraphs();
    const uplink = await startUplink('service:graph:secret-key', 'my-graph@current', graphs.a);
    const gateway = await startGatewayProcess({
      APOLLO_KEY: 'service:graph:secret-key',
      APOLLO_GRAPH_REF: 'my-graph@current',
      APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT: uplink.url,
      SUPERGRAPH_POLL_SECONDS: '1',
      RATE_LIMIT_ENABLED: 'false',
    });
    try {
      assert.deepEqual(await askColor(gateway.url), { status: 200, color: 'a' });
      await waitFor(() => uplink.calls.length >= 2, 10_000);
      assert.deepEqual(
        uplink.calls.slice(0, 2).map(({ ref, ifAfterId, answer }) => ({ ref, ifAfterId, answer })),
        [
          { ref: 'my-graph@current', ifAfterId: null, answer: 'RouterConfigResult' },
          { ref: 'my-graph@current', ifAfterId: 'v1', answer: 'Unchanged' },
        ],
      );
      uplink.publish(graphs.b);
      await waitFor(async () => (await askColor(gateway.url)).color === 'b', 10_000);
      const ready = await readiness(gateway.url);
      assert.equal(ready.body['supergraph']['version'], supergraphVersion(graphs.b));
      assert.equal(gateway.logs.filter((l) => l['msg'] === 'supergraph loaded').length, 2);
      assert.equal(gateway.logs.find((l) => l['msg'] === 'started')?.['supergraph'], `GraphOS my-graph@current (${uplink.url})`);
      assert.doesNotMatch(JSON.stringify(gateway.logs), /secret-key/);
    } finally {
      assert.equal(await gateway.stop(), 0);
      await uplink.close();
    }
  });

  test("Uplink's minDelaySeconds: no poll sooner than it asks, though SUPERGRAPH_POLL_SECONDS is shorter", async () => {
    const graphs = colorGraphs();
    const uplink = await startUplink('key', 'my-graph@current', graphs.a, { minDelaySeconds: 2 });
    const gateway = await startGatewayProcess({
      APOLLO_KEY: 'key',
      APOLLO_GRAPH_REF: 'my-graph@current',
      APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT: uplink.url,
      SUPERGRAPH_POLL_SECONDS: '1',
      RATE_LIMIT_ENABLED: 'false',
    });
    try {
      assert.deepEqual(await askColor(gateway.url), { status: 200, color: 'a' });
      await waitFor(() => uplink.calls.length >= 3, 20_000);
      // Each poll is sent after the previous answer arrived plus the delay: a lower bound only.
      const gaps = uplink.calls.slice(1, 3).map((call, i) => call.at - uplink.calls[i]!.at);
      assert.ok(
        gaps.every((gap) => gap >= 1900),
        `gaps between polls: ${gaps.join(', ')} ms`,
      );
      uplink.publish(graphs.b);
      await waitFor(async () => (await askColor(gateway.url)).color === 'b', 20_000);
    } finally {
      assert.equal(await gateway.stop(), 0);
      await uplink.close();
    }
  });

  test('a FetchError stops start-up with one tollgate: line giving its code and message', async () => {
    const graphs = colorGraphs();
    const uplink = await startUplink('right-key', 'my-graph@current', graphs.a);
    try {
      const env = { APOLLO_GRAPH_REF: 'my-graph@current', APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT: uplink.url };
      const wrongKey = await runGatewayExpectingFailure({ ...env, APOLLO_KEY: 'wrong-key' });
      assert.equal(wrongKey.code, 1);
      assert.deepEqual(
        wrongKey.stderr.split('\n').filter((l) => l.startsWith('tollgate:')),
        [
          'tollgate: Invalid APOLLO_GRAPH_REF="my-graph@current": expected a graph ref whose supergraph GraphOS Uplink serves with APOLLO_KEY (GraphOS Uplink: AUTHENTICATION_FAILED: invalid API key)',
        ],
      );
      const unknownRef = await runGatewayExpectingFailure({ ...env, APOLLO_KEY: 'right-key', APOLLO_GRAPH_REF: 'other@current' });
      assert.match(unknownRef.stderr, /^tollgate: .*UNKNOWN_REF: unknown ref "other@current"\)$/m);
      const both = await runGatewayExpectingFailure({ ...env, APOLLO_KEY: 'right-key', SUPERGRAPH: '/tmp/x.graphql' });
      assert.match(
        both.stderr,
        /^tollgate: Invalid APOLLO_GRAPH_REF="": expected not to be set together with SUPERGRAPH: one supergraph source$/m,
      );
    } finally {
      await uplink.close();
    }
  });
});
