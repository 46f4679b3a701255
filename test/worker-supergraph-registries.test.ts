import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { supergraphVersion } from '../src/supergraph/version.js';
import { startHiveCdn, startUplink } from './support/registries.js';
import { twoColorGraphs, waitFor, workerColor as color, workerReadiness as readiness } from './support/supergraphs.js';
import { startWorker } from './support/worker.js';

let graphs: Awaited<ReturnType<typeof twoColorGraphs>>;
before(async () => {
  graphs = await twoColorGraphs();
});
after(() => graphs.close());

const graphql = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ color }' }) };

describe('Hive CDN and GraphOS as the supergraph source in workerd (the built Worker)', () => {
  test('Hive CDN: read with its key and ETag, a new artifact swapped in; an outage and a broken artifact keep the graph and show in /readiness', async () => {
    const cdn = await startHiveCdn('cdn-key-456', graphs.a);
    const worker = await startWorker({
      HIVE_CDN_ENDPOINT: cdn.endpoint,
      HIVE_CDN_KEY: 'cdn-key-456',
      SUPERGRAPH_POLL_SECONDS: '1',
      RATE_LIMIT_ENABLED: 'false',
    });
    try {
      assert.deepEqual(await color(worker), { status: 200, color: 'a' });
      assert.deepEqual(
        cdn.requests.map((r) => [r.path, r.key, r.status]),
        [['/artifacts/v1/target-1/supergraph', 'cdn-key-456', 200]],
      );

      cdn.set(graphs.b);
      await waitFor(async () => (await color(worker)).color === 'b', 15_000);
      assert.ok(
        cdn.requests.slice(1).every((r) => r.ifNoneMatch !== undefined && r.key === 'cdn-key-456'),
        'refreshes send If-None-Match and the key',
      );
      const swapped = await readiness(worker);
      assert.equal(swapped.status, 200);
      assert.equal(swapped.body['status'], 'ready');
      assert.equal(swapped.body['supergraph']['version'], supergraphVersion(graphs.b));

      // An outage: the graph served stays, /readiness says degraded and why.
      cdn.fault({ kind: 'status', status: 500 });
      await waitFor(async () => (await readiness(worker)).body['supergraph']['lastUpdate']['ok'] === false, 15_000);
      const outage = await readiness(worker);
      assert.equal(outage.status, 200);
      assert.equal(outage.body['status'], 'degraded');
      assert.equal(outage.body['supergraph']['version'], supergraphVersion(graphs.b));
      assert.equal(outage.body['supergraph']['lastUpdate']['error'], 'HTTP 500');
      assert.deepEqual(await color(worker), { status: 200, color: 'b' });

      // Up again with a broken artifact: refused, still the last good graph.
      cdn.fault(undefined);
      cdn.set('<html><body>502 Bad Gateway</body></html>');
      await waitFor(async () => /does not parse/.test(String((await readiness(worker)).body['supergraph']['lastUpdate']['error'])), 15_000);
      assert.equal((await readiness(worker)).body['supergraph']['version'], supergraphVersion(graphs.b));
      assert.deepEqual(await color(worker), { status: 200, color: 'b' });

      // A good artifact again: served, ready.
      cdn.set(graphs.a);
      await waitFor(async () => (await color(worker)).color === 'a', 15_000);
      const recovered = await readiness(worker);
      assert.equal(recovered.body['status'], 'ready');
      assert.equal(recovered.body['supergraph']['version'], supergraphVersion(graphs.a));
      assert.ok(worker.logs.some((l) => l['msg'] === 'supergraph update failed: the last good supergraph is kept'));
      assert.doesNotMatch(JSON.stringify(worker.logs), /cdn-key-456/);
    } finally {
      await worker.dispose();
      await cdn.close();
    }
  });

  test('Hive CDN: a wrong key before any graph is loaded answers the 503 shape, naming the 403', async () => {
    const cdn = await startHiveCdn('right-key', graphs.a);
    const worker = await startWorker({ HIVE_CDN_ENDPOINT: cdn.endpoint, HIVE_CDN_KEY: 'wrong-key', RATE_LIMIT_ENABLED: 'false' });
    try {
      assert.equal((await color(worker)).status, 503);
      const ready = await readiness(worker);
      assert.equal(ready.status, 503);
      assert.equal(ready.body['supergraph']['version'], null);
      assert.equal(ready.body['supergraph']['lastUpdate']['error'], 'HTTP 403');
    } finally {
      await worker.dispose();
      await cdn.close();
    }
  });

  test('GraphOS Uplink: ifAfterId, Unchanged, a new id swapped in, no poll sooner than minDelaySeconds; a bad publish keeps the graph', async () => {
    const uplink = await startUplink('service:graph:worker-secret', 'my-graph@current', graphs.a, { minDelaySeconds: 2 });
    const worker = await startWorker({
      APOLLO_KEY: 'service:graph:worker-secret',
      APOLLO_GRAPH_REF: 'my-graph@current',
      APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT: uplink.url,
      SUPERGRAPH_POLL_SECONDS: '1',
      RATE_LIMIT_ENABLED: 'false',
    });
    try {
      assert.deepEqual(await color(worker), { status: 200, color: 'a' });
      // Requests keep coming (each may start a background refresh once SUPERGRAPH_POLL_SECONDS passed).
      await waitFor(async () => (await color(worker)).status === 200 && uplink.calls.length >= 2, 15_000);
      assert.deepEqual(
        uplink.calls.slice(0, 2).map(({ ifAfterId, answer }) => ({ ifAfterId, answer })),
        [
          { ifAfterId: null, answer: 'RouterConfigResult' },
          { ifAfterId: 'v1', answer: 'Unchanged' },
        ],
      );

      uplink.publish(graphs.b);
      await waitFor(async () => (await color(worker)).color === 'b', 15_000);
      assert.equal((await readiness(worker)).body['supergraph']['version'], supergraphVersion(graphs.b));
      // Uplink asked for 2 s between polls: each poll is sent after the previous answer plus that.
      const gaps = uplink.calls.slice(1).map((call, i) => call.at - uplink.calls[i]!.at);
      assert.ok(gaps.length >= 2 && gaps.every((gap) => gap >= 1900), `gaps between polls: ${gaps.join(', ')} ms`);

      // A subgraph's SDL published by mistake: refused, the last good graph kept, /readiness degraded.
      uplink.publish('type Query { color: String }');
      await waitFor(async () => (await readiness(worker)).body['supergraph']['lastUpdate']['ok'] === false, 15_000);
      const bad = await readiness(worker);
      assert.equal(bad.status, 200);
      assert.equal(bad.body['status'], 'degraded');
      assert.equal(bad.body['supergraph']['version'], supergraphVersion(graphs.b));
      assert.match(bad.body['supergraph']['lastUpdate']['error'], /not a composed federation supergraph/);
      assert.deepEqual(await color(worker), { status: 200, color: 'b' });

      uplink.publish(graphs.a);
      await waitFor(async () => (await color(worker)).color === 'a', 15_000);
      assert.equal((await readiness(worker)).body['status'], 'ready');
      assert.ok(uplink.calls.every((c) => c.ref === 'my-graph@current'));
      assert.doesNotMatch(JSON.stringify(worker.logs), /worker-secret/);
    } finally {
      await worker.dispose();
      await uplink.close();
    }
  });

  test('the request that started the first load leaves: the load completes, the requests waiting beside it and after it are answered', async () => {
    const cdn = await startHiveCdn('cdn-key', graphs.a);
    cdn.fault({ kind: 'delay', ms: 1500 });
    const worker = await startWorker(
      { HIVE_CDN_ENDPOINT: cdn.endpoint, HIVE_CDN_KEY: 'cdn-key', SUPERGRAPH_TIMEOUT_MS: '3000', RATE_LIMIT_ENABLED: 'false' },
      { withClient: true },
    );
    try {
      // The first request starts the read of the CDN, then its client gives up while the CDN is slow.
      const leaving = worker.fetchAbandoned('/graphql', graphql, 300);
      await waitFor(() => cdn.requests.length === 1, 5_000);
      const waiting = Promise.all(Array.from({ length: 4 }, (_, i) => color(worker, `192.0.2.${120 + i}`)));
      assert.equal(await leaving, 'abandoned');
      assert.deepEqual(await waiting, Array(4).fill({ status: 200, color: 'a' }));
      assert.deepEqual(await color(worker), { status: 200, color: 'a' });
      assert.equal(cdn.requests.length, 1, 'the read the leaving request started completed: no second read');
      assert.equal((await readiness(worker)).status, 200);
    } finally {
      await worker.dispose();
      await cdn.close();
    }
  });
});
