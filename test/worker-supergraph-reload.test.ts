import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { composeSupergraph } from '../src/compose/compose.js';
import { supergraphVersion } from '../src/supergraph/version.js';
import {
  startSupergraphServer,
  twoColorGraphs,
  waitFor,
  workerColor as color,
  workerReadiness as readiness,
} from './support/supergraphs.js';
import { startWorker } from './support/worker.js';

let graphs: Awaited<ReturnType<typeof twoColorGraphs>>;
before(async () => {
  graphs = await twoColorGraphs();
});
after(() => graphs.close());

describe('the supergraph on Workers: cached per isolate, refreshed in the background', () => {
  test('a changed supergraph is served after SUPERGRAPH_POLL_SECONDS; a hanging refresh is never on a request path', async () => {
    const registry = await startSupergraphServer({ kind: 'sdl', sdl: graphs.a });
    const worker = await startWorker({
      SUPERGRAPH: registry.url,
      SUPERGRAPH_POLL_SECONDS: '1',
      SUPERGRAPH_TIMEOUT_MS: '30000',
      RATE_LIMIT_ENABLED: 'false',
    });
    try {
      assert.deepEqual(await color(worker), { status: 200, color: 'a' });
      assert.equal(registry.requests.length, 1);
      // The registry hangs: a request after the TTL starts a refresh and is answered on the cached graph.
      registry.set({ kind: 'hang' });
      await new Promise((r) => setTimeout(r, 1100));
      assert.deepEqual(await color(worker), { status: 200, color: 'a' });
      await waitFor(() => registry.requests.length === 2);
      assert.deepEqual(await color(worker), { status: 200, color: 'a' }, 'answered while the refresh hangs');
      assert.equal(registry.requests.length, 2, 'one refresh at a time');
      await registry.close();

      const next = await startSupergraphServer({ kind: 'sdl', sdl: graphs.b });
      const moved = await startWorker({ SUPERGRAPH: next.url, SUPERGRAPH_POLL_SECONDS: '1', RATE_LIMIT_ENABLED: 'false' });
      try {
        assert.deepEqual(await color(moved), { status: 200, color: 'b' });
        next.set({ kind: 'sdl', sdl: graphs.a });
        await waitFor(async () => (await color(moved)).color === 'a', 10_000);
        const ready = await readiness(moved);
        assert.equal(ready.status, 200);
        assert.equal(ready.body['status'], 'ready');
        assert.equal(ready.body['supergraph']['version'], supergraphVersion(graphs.a));
        assert.ok(
          next.requests.slice(1).every((r) => r.ifNoneMatch !== undefined),
          'refreshes send If-None-Match',
        );
      } finally {
        await moved.dispose();
        await next.close();
      }
    } finally {
      await worker.dispose();
    }
  });

  test('a refreshed supergraph with loopback subgraphs (no ALLOW_PRIVATE_SUBGRAPHS) is refused; the old one is kept', async () => {
    const typeDefs = `
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
      type Query { color: String }`;
    // Served through the outbound service: a public name the test answers itself.
    const publicGraph = composeSupergraph([{ name: 'colors', url: 'https://colors.example.com/graphql', typeDefs }]);
    const registry = await startSupergraphServer({ kind: 'sdl', sdl: publicGraph });
    const worker = await startWorker(
      { SUPERGRAPH: registry.url, SUPERGRAPH_POLL_SECONDS: '1', ALLOW_PRIVATE_SUBGRAPHS: 'false', RATE_LIMIT_ENABLED: 'false' },
      {
        outboundService: async (request: Request) => {
          const url = new URL(request.url);
          if (url.hostname === 'colors.example.com') return Response.json({ data: { color: 'public' } });
          // The registry, on loopback.
          return fetch(request.url, { headers: request.headers });
        },
      },
    );
    try {
      assert.deepEqual(await color(worker), { status: 200, color: 'public' });
      registry.set({ kind: 'sdl', sdl: graphs.b });
      await new Promise((r) => setTimeout(r, 1100));
      await color(worker);
      await waitFor(async () => (await readiness(worker)).body['supergraph']['lastUpdate']['ok'] === false, 10_000);
      const ready = await readiness(worker);
      assert.equal(ready.status, 200);
      assert.equal(ready.body['status'], 'degraded');
      assert.equal(ready.body['supergraph']['version'], supergraphVersion(publicGraph));
      assert.match(ready.body['supergraph']['lastUpdate']['error'], /loopback or private addresses, .*: colors \(127\.0\.0\.1:\d+\)/);
      assert.deepEqual(await color(worker), { status: 200, color: 'public' });
      const warned = await worker.waitForLog((l) => String(l['msg']).startsWith('supergraph update failed'));
      assert.equal(warned['version'], supergraphVersion(publicGraph));
    } finally {
      await worker.dispose();
      await registry.close();
    }
  });

  test('no graph: /readiness answers 503 in its one shape, a query 503 SERVICE_UNAVAILABLE', async () => {
    const registry = await startSupergraphServer({ kind: 'sdl', sdl: 'down', status: 500 });
    const worker = await startWorker({ SUPERGRAPH: registry.url });
    try {
      const query = await color(worker);
      assert.equal(query.status, 503);
      const ready = await readiness(worker);
      assert.equal(ready.status, 503);
      assert.deepEqual(ready.body, {
        status: 'degraded',
        store: { kind: 'memory', status: 'ok' },
        supergraph: {
          version: null,
          loadedAt: null,
          lastUpdate: { ok: false, at: ready.body['supergraph']['lastUpdate']['at'], error: 'HTTP 500' },
        },
      });
      // Up again: the next request loads it.
      registry.set({ kind: 'sdl', sdl: graphs.a });
      assert.deepEqual(await color(worker), { status: 200, color: 'a' });
      assert.equal((await readiness(worker)).status, 200);
    } finally {
      await worker.dispose();
      await registry.close();
    }
  });

  test('requests that arrive together before the first load: one read, each waits on its own, none hangs', async () => {
    const registry = await startSupergraphServer({ kind: 'sdl', sdl: graphs.a });
    const worker = await startWorker({ SUPERGRAPH: registry.url, RATE_LIMIT_ENABLED: 'false' });
    try {
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => color(worker, `192.0.2.${100 + i}`)));
      assert.deepEqual(answers, Array(6).fill({ status: 200, color: 'a' }));
      assert.equal(registry.requests.length, 1, 'one read for all of them');
    } finally {
      await worker.dispose();
      await registry.close();
    }
    const hanging = await startSupergraphServer({ kind: 'hang' });
    const stuck = await startWorker({ SUPERGRAPH: hanging.url, SUPERGRAPH_TIMEOUT_MS: '800', RATE_LIMIT_ENABLED: 'false' });
    try {
      // The read's deadline passes: the reader and those waiting beside it are all answered 503.
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => color(stuck, `192.0.2.${110 + i}`)));
      assert.deepEqual(
        answers.map((a) => a.status),
        Array(6).fill(503),
      );
    } finally {
      await stuck.dispose();
      await hanging.close();
    }
  });
});
