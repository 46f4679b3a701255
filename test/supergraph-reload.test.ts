import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { supergraphVersion } from '../src/supergraph/version.js';
import { clusterScript, runGatewayExpectingFailure, startGatewayProcess } from './support/process.js';
import { freePort } from './support/redis-server.js';
import { askColor, readiness, startSupergraphServer, twoColorGraphs, waitFor } from './support/supergraphs.js';

let graphs: Awaited<ReturnType<typeof twoColorGraphs>>;
before(async () => {
  // 15 ms per answer: under load, requests are in flight at every swap.
  graphs = await twoColorGraphs(15);
});
after(() => graphs.close());

/** Writes the file as a deployment does: a new file renamed over the old one. */
function replaceFile(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

/** The gateway on a URL polled every second, with a stand-in registry serving graph a. */
async function startOnUrl(env: Record<string, string>) {
  const registry = await startSupergraphServer({ kind: 'sdl', sdl: graphs.a });
  const gateway = await startGatewayProcess({
    SUPERGRAPH: registry.url,
    SUPERGRAPH_POLL_SECONDS: '1',
    RATE_LIMIT_ENABLED: 'false',
    ...env,
  });
  return { registry, gateway };
}

const failureLines = (logs: Record<string, unknown>[]) => logs.filter((l) => String(l['msg']).startsWith('supergraph update failed'));

describe('supergraph reload on Node', () => {
  for (const lifecycle of ['isolate', 'request'] as const) {
    test(`GATEWAY_LIFECYCLE=${lifecycle}: five swaps of a watched file under continuous load lose nothing and mix nothing`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tollgate-reload-'));
      const file = join(dir, 'supergraph.graphql');
      writeFileSync(file, graphs.a);
      const gateway = await startGatewayProcess({ SUPERGRAPH: file, GATEWAY_LIFECYCLE: lifecycle, RATE_LIMIT_ENABLED: 'false' });
      try {
        const started = gateway.logs.find((l) => l['msg'] === 'started');
        assert.equal(started?.['supergraphVersion'], supergraphVersion(graphs.a), 'the version is in the start-up line');
        const answers: { status: number; color: string }[] = [];
        let running = true;
        const clients = Array.from({ length: 8 }, async () => {
          while (running) answers.push(await askColor(gateway.url).catch((error: unknown) => ({ status: 0, color: String(error) })));
        });
        let expected = 'a';
        for (let swap = 0; swap < 5; swap++) {
          expected = expected === 'a' ? 'b' : 'a';
          const seen = answers.length;
          replaceFile(file, expected === 'a' ? graphs.a : graphs.b);
          await waitFor(() => answers.slice(seen).some((a) => a.color === expected));
          // Every new request gets the new graph: a few more answers, all on it.
          const from = answers.length;
          await waitFor(() => answers.length >= from + 16);
          const later = answers.slice(from + 8);
          assert.ok(
            later.every((a) => a.color === expected),
            `after swap ${swap + 1}: ${JSON.stringify(later)}`,
          );
        }
        running = false;
        await Promise.all(clients);
        const bad = answers.filter((a) => a.status !== 200 || (a.color !== 'a' && a.color !== 'b'));
        assert.deepEqual(bad, [], `${answers.length} answers`);
        assert.ok(answers.length > 50);
        const ready = await readiness(gateway.url);
        assert.equal(ready.status, 200);
        assert.equal(ready.body['status'], 'ready');
        assert.equal(ready.body['supergraph']['version'], supergraphVersion(graphs.b));
        assert.equal(gateway.logs.filter((l) => l['msg'] === 'supergraph loaded').length, 6, 'the first load and five swaps');
      } finally {
        assert.equal(await gateway.stop(), 0);
      }
    });
  }

  test('npm run start:cluster (2 workers): every worker converges on the new version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-reload-cluster-'));
    const file = join(dir, 'supergraph.graphql');
    writeFileSync(file, graphs.a);
    // One port for both workers (node:cluster shares it): a fixed free one.
    const port = await freePort();
    const primary = await startGatewayProcess(
      { SUPERGRAPH: file, CLUSTER_WORKERS: '2', PORT: String(port), RATE_LIMIT_ENABLED: 'false' },
      { script: clusterScript, started: 2 },
    );
    try {
      const loadedB = () => primary.logs.filter((l) => l['msg'] === 'supergraph loaded' && l['version'] === supergraphVersion(graphs.b));
      replaceFile(file, graphs.b);
      await waitFor(() => loadedB().length === 2, 10_000);
      const answers = await Promise.all(Array.from({ length: 40 }, () => askColor(primary.url)));
      assert.deepEqual(new Set(answers.map((a) => `${a.status} ${a.color}`)), new Set(['200 b']));
    } finally {
      await primary.stop();
    }
  });

  test('a URL: every kind of bad update keeps the last good graph, logged once per change, counted, on /readiness', async () => {
    const { registry, gateway } = await startOnUrl({ SUPERGRAPH_TIMEOUT_MS: '700', SUPERGRAPH_MAX_BYTES: '1048576', METRICS_PORT: '0' });
    try {
      const version = supergraphVersion(graphs.a);
      const bad: [string, Parameters<typeof registry.set>[0], RegExp][] = [
        ['HTTP 500', { kind: 'sdl', sdl: 'oops', status: 500 }, /HTTP 500/],
        ['an HTML page', { kind: 'sdl', sdl: '<html><body>Bad gateway</body></html>', contentType: 'text/html; charset=utf-8' }, /HTML/],
        ['HTML served as text', { kind: 'sdl', sdl: '<!doctype html><html></html>' }, /does not parse.*Unexpected character: "<"/],
        ['invalid SDL', { kind: 'sdl', sdl: 'type Query { color: String' }, /does not parse.*<EOF>/],
        ['not a supergraph', { kind: 'sdl', sdl: 'type Query { color: String }' }, /join__Graph/],
        [
          'a supergraph the runtime refuses',
          { kind: 'sdl', sdl: graphs.a.replace('color: String', 'color: NoSuchType') },
          /runtime refused it: Unknown type: "NoSuchType"/,
        ],
        ['50 MB (over SUPERGRAPH_MAX_BYTES)', { kind: 'huge', bytes: 50 * 1024 * 1024 }, /SUPERGRAPH_MAX_BYTES/],
        ['a URL that hangs', { kind: 'hang' }, /within 700 ms/],
        ['a connection reset', { kind: 'reset' }, /fetch failed|socket|terminated|other side closed/i],
      ];
      for (const [name, answer, reason] of bad) {
        const seen = registry.requests.length;
        registry.set(answer);
        // Two polls of the same failure: logged once, counted twice.
        await waitFor(() => registry.requests.length >= seen + 2, 10_000);
        await waitFor(
          async () => reason.test(String((await readiness(gateway.url)).body['supergraph']['lastUpdate']['error'] ?? '')),
          5_000,
        );
        const ready = await readiness(gateway.url);
        assert.equal(ready.status, 200, name);
        assert.equal(ready.body['status'], 'degraded', name);
        assert.equal(ready.body['supergraph']['version'], version, name);
        assert.equal(ready.body['supergraph']['lastUpdate']['ok'], false, name);
        assert.deepEqual(await askColor(gateway.url), { status: 200, color: 'a' }, name);
      }
      const lines = failureLines(gateway.logs);
      assert.deepEqual(
        lines.map((l) => bad.findIndex(([, , reason]) => reason.test(String(l['error'])))),
        bad.map((_, i) => i),
        `one line per change: ${JSON.stringify(lines.map((l) => l['error']))}`,
      );
      // A good update after all that is served.
      registry.set({ kind: 'sdl', sdl: graphs.b });
      await waitFor(async () => (await askColor(gateway.url)).color === 'b', 10_000);
      const ready = await readiness(gateway.url);
      assert.equal(ready.body['status'], 'ready');
      assert.equal(ready.body['supergraph']['version'], supergraphVersion(graphs.b));
      assert.equal(ready.body['supergraph']['lastUpdate']['ok'], true);

      const metricsUrl = String(gateway.logs.find((l) => l['msg'] === 'started')?.['metrics']);
      const metrics = await (await fetch(metricsUrl.match(/http:\/\/\S+\/metrics/)![0])).text();
      assert.match(metrics, new RegExp(`tollgate_supergraph_info\\{hash="${supergraphVersion(graphs.b)}"\\} 1`));
      assert.doesNotMatch(metrics, new RegExp(`tollgate_supergraph_info\\{hash="${version}"\\}`));
      assert.match(metrics, /tollgate_supergraph_loads_total 2\n/);
      const failures = Number(/tollgate_supergraph_update_failures_total (\d+)/.exec(metrics)?.[1]);
      assert.ok(failures >= bad.length * 2, `failures counted per poll: ${failures}`);
    } finally {
      assert.equal(await gateway.stop(), 0);
      await registry.close();
    }
  });

  test('a URL: If-None-Match with the ETag, a 304 reloads nothing; SUPERGRAPH_AUTHORIZATION is sent', async () => {
    const { registry, gateway } = await startOnUrl({ SUPERGRAPH_AUTHORIZATION: 'Bearer registry-token' });
    try {
      await waitFor(() => registry.requests.length >= 3, 10_000);
      const etag = `"${supergraphVersion(graphs.a)}"`;
      assert.deepEqual(registry.requests[0], { ifNoneMatch: undefined, authorization: 'Bearer registry-token', status: 200 });
      for (const request of registry.requests.slice(1)) {
        assert.deepEqual(request, { ifNoneMatch: etag, authorization: 'Bearer registry-token', status: 304 });
      }
      assert.equal(gateway.logs.filter((l) => l['msg'] === 'supergraph loaded').length, 1);
      const ready = await readiness(gateway.url);
      assert.equal(ready.body['status'], 'ready');
      assert.equal(ready.body['supergraph']['lastUpdate']['ok'], true);
      assert.ok(Date.parse(ready.body['supergraph']['lastUpdate']['at']) > Date.parse(ready.body['supergraph']['loadedAt']));
      const started = JSON.stringify(gateway.logs.find((l) => l['msg'] === 'started'));
      assert.doesNotMatch(started, /registry-token/, 'the header value is not logged');
    } finally {
      assert.equal(await gateway.stop(), 0);
      await registry.close();
    }
  });

  test('a first load that fails stops start-up with one tollgate: line, a hanging URL within its deadline', async () => {
    const hanging = await startSupergraphServer({ kind: 'hang' });
    const failing = await startSupergraphServer({ kind: 'sdl', sdl: 'no', status: 500 });
    try {
      const startedAt = Date.now();
      const hung = await runGatewayExpectingFailure({ SUPERGRAPH: hanging.url, SUPERGRAPH_TIMEOUT_MS: '500' });
      assert.ok(Date.now() - startedAt < 15_000);
      assert.equal(hung.code, 1);
      assert.deepEqual(
        hung.stderr.split('\n').filter((l) => l.startsWith('tollgate:')),
        [
          `tollgate: Invalid SUPERGRAPH="${hanging.url}": expected a readable supergraph file path or http(s) URL (no complete answer within 500 ms (SUPERGRAPH_TIMEOUT_MS))`,
        ],
      );
      const failed = await runGatewayExpectingFailure({ SUPERGRAPH: failing.url });
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, /^tollgate: Invalid SUPERGRAPH=.*\(HTTP 500\)$/m);
      assert.doesNotMatch(failed.stderr, /\n\s+at /);
    } finally {
      await hanging.close();
      await failing.close();
    }
  });
});
