import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { describe, test } from 'node:test';
import { supergraphVersion } from '../src/supergraph/version.js';
import { runGatewayExpectingFailure, startGatewayProcess } from './support/process.js';
import { askColor, readiness, listenLoopback, twoColorGraphsForFile, waitFor } from './support/supergraphs.js';

/**
 * A stand-in for Hive CDN as its clients see it: `GET <endpoint>/supergraph` with the
 * `X-Hive-CDN-Key` header (403 without the right key), the artifact with an `ETag`, and 304 for
 * a matching `If-None-Match`.
 */
async function startHiveCdn(key: string, initial: string) {
  let artifact = initial;
  const requests: { path: string; key: string | undefined; ifNoneMatch: string | undefined; status: number }[] = [];
  const server: Server = createServer((req, res) => {
    const record = { path: req.url ?? '', key: req.headers['x-hive-cdn-key'] as string | undefined, ifNoneMatch: req.headers['if-none-match'], status: 0 };
    requests.push(record);
    const answer = (status: number, headers: Record<string, string>, body?: string) => {
      record.status = status;
      res.writeHead(status, headers);
      res.end(body);
    };
    if (req.method !== 'GET' || req.url !== '/artifacts/v1/target-1/supergraph') return answer(404, { 'content-type': 'text/plain' }, 'Not Found');
    if (record.key !== key) return answer(403, { 'content-type': 'text/plain' }, 'Invalid CDN key');
    const etag = `"${supergraphVersion(artifact)}"`;
    if (record.ifNoneMatch === etag) return answer(304, { etag });
    answer(200, { 'content-type': 'text/plain', etag }, artifact);
  });
  const { origin, close } = await listenLoopback(server);
  return {
    endpoint: `${origin}/artifacts/v1/target-1`,
    requests,
    set: (text: string) => void (artifact = text),
    close,
  };
}

const colorGraphs = twoColorGraphsForFile();

describe('Hive CDN as the supergraph source (Node)', () => {
  test('read with X-Hive-CDN-Key and ETag, a new artifact swapped in; the key is not logged', async () => {
    const graphs = colorGraphs();
    const cdn = await startHiveCdn('cdn-key-123', graphs.a);
    const gateway = await startGatewayProcess({ HIVE_CDN_ENDPOINT: cdn.endpoint, HIVE_CDN_KEY: 'cdn-key-123', SUPERGRAPH_POLL_SECONDS: '1', RATE_LIMIT_ENABLED: 'false' });
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
