import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { closeDemo, demoSubgraphs } from './support/gateway.js';
import { assertShape, startCustomGateway, type CustomGateway } from './support/security.js';

/**
 * A subgraph that is down, slow past UPSTREAM_TIMEOUT_MS, hung, or answering garbage: the
 * gateway answers in time with GraphQL errors (and the other subgraphs' data where the plan
 * allows), never a 5xx outside the error shape, and logs the cause.
 */

type Mode = 'ok' | 'down' | 'slow' | 'hang' | 'garbage' | 'html-500' | 'wrong-shape' | 'cut';
const timeoutMs = 400;

/** The reviews subgraph behind a switch: forwards to the real one, or misbehaves. */
interface FaultySubgraph {
  readonly url: string;
  /** Switches behaviour; `down` stops listening (connections refused), anything else listens again. */
  setMode(mode: Mode): Promise<void>;
  close(): Promise<void>;
}

async function startFaultySubgraph(target: string): Promise<FaultySubgraph> {
  const state = { mode: 'ok' as Mode };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        switch (state.mode) {
          case 'cut':
            res.socket?.destroy();
            return;
          case 'hang':
            return;
          case 'garbage':
            res.writeHead(200, { 'content-type': 'application/json' }).end('<html>not json');
            return;
          case 'html-500':
            res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>Internal Server Error</h1>');
            return;
          case 'wrong-shape':
            res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":[1,2,3]}');
            return;
          case 'slow':
            await new Promise((resolve) => setTimeout(resolve, timeoutMs * 3));
            break;
        }
        const upstream = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) });
        res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text());
      } catch {
        res.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    async setMode(mode) {
      if (mode === 'down' && server.listening) await stop();
      if (mode !== 'down' && !server.listening) await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      state.mode = mode;
    },
    close: () => (server.listening ? stop() : Promise.resolve()),
  };
}

/** Products (up) and reviews (faulty) in one query: `product` is nullable, so its failure is partial. */
const partialQuery = '{ topProducts { name } product(upc: "1") { name reviews { body } } }';
/** Only the faulty subgraph: no data to give. */
const reviewsOnly = '{ reviews { body } }';

// Both planners: the Rust one is Node's default, the JavaScript one runs on Workers (and on request).
for (const planner of ['rust', 'js'] as const) describe(`upstream failure (${planner} planner): a faulty subgraph never hangs the gateway or escapes the error shape`, () => {
  let faulty: FaultySubgraph;
  let gw: CustomGateway;
  let subgraphPort: string;
  before(async () => {
    const demo = await demoSubgraphs();
    const reviews = demo.subgraphs.find((s) => s.name === 'reviews')!;
    faulty = await startFaultySubgraph(reviews.url);
    subgraphPort = new URL(faulty.url).port;
    const sdl = demo.supergraphSdl.replace(reviews.url, faulty.url);
    assert.notEqual(sdl, demo.supergraphSdl);
    gw = await startCustomGateway(sdl, { UPSTREAM_TIMEOUT_MS: String(timeoutMs), RATE_LIMIT_MAX_REQUESTS: '10000', QUERY_PLANNER: planner });
  });
  after(async () => {
    await gw.close();
    await faulty.close();
    await closeDemo();
  });

  async function ask(query: string, accept = 'application/json') {
    const started = performance.now();
    const response = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept, 'x-request-id': `upstream-${Math.random().toString(36).slice(2)}` },
      body: JSON.stringify({ query }),
    });
    const text = await response.text();
    const ms = performance.now() - started;
    const body = JSON.parse(text) as { data?: any; errors?: { message: string; extensions: Record<string, unknown> }[] };
    // Never a 5xx outside the error shape; never the subgraph's address or raw answer.
    if (response.status >= 400) assertShape(body, response.headers.get('x-request-id'));
    assert.doesNotMatch(text, new RegExp(`127\\.0\\.0\\.1:${subgraphPort}|<html>|<h1>|not json`), text);
    const requestId = response.headers.get('x-request-id')!;
    return { status: response.status, body, ms, requestId, text };
  }

  test('all up: the partial query has data from both subgraphs', async () => {
    await faulty.setMode('ok');
    const { status, body } = await ask(partialQuery);
    assert.equal(status, 200);
    assert.ok(body.data.product.reviews.length > 0);
  });

  for (const mode of ['down', 'cut', 'garbage', 'html-500', 'wrong-shape'] as const) {
    test(`${mode}: 200 with the other subgraph's data, an error at the failed field, the cause in the log`, async () => {
      await faulty.setMode(mode);
      const logged = gw.lines.length;
      const { status, body, ms, requestId } = await ask(partialQuery);
      assert.equal(status, 200);
      assert.equal(body.data.topProducts.length, 5);
      assert.equal(body.data.product, null);
      assert.ok(body.errors?.length, 'errors');
      assert.deepEqual(body.errors![0]!.extensions['code'], 'INTERNAL_SERVER_ERROR'); // masked in production
      assert.ok(ms < timeoutMs * 5, `answered in ${ms} ms`);
      const lines = gw.lines.slice(logged).map((l) => JSON.parse(l) as Record<string, unknown>);
      const cause = lines.find((l) => l['level'] === 'error' && l['component'] === 'runtime');
      assert.ok(cause, `a runtime error line: ${JSON.stringify(lines)}`);
      assert.match(JSON.stringify(cause), /reviews/);
      assert.ok(lines.some((l) => l['msg'] === 'request' && l['requestId'] === requestId && l['status'] === 200));
    });
  }

  for (const mode of ['slow', 'hang'] as const) {
    test(`${mode}: cut at UPSTREAM_TIMEOUT_MS; partial data with GATEWAY_TIMEOUT, both media types; logged`, async () => {
      await faulty.setMode(mode);
      for (const accept of ['application/json', 'application/graphql-response+json']) {
        const logged = gw.lines.length;
        const { status, body, ms, requestId } = await ask(partialQuery, accept);
        // With data, 200 (GraphQL-over-HTTP requires 2xx for data under its media type).
        assert.equal(status, 200);
        assert.equal(body.data.topProducts.length, 5);
        assert.equal(body.data.product, null);
        assert.equal(body.errors![0]!.extensions['code'], 'GATEWAY_TIMEOUT');
        assert.deepEqual(Object.keys(body.errors![0]!.extensions).sort(), ['code', 'serviceName']);
        assert.ok(ms >= timeoutMs * 0.9 && ms < timeoutMs * 3, `answered in ${ms} ms`);
        const line = gw.lines.slice(logged).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'upstream error');
        assert.equal(line?.['requestId'], requestId);
        assert.equal(line?.['subgraph'], 'reviews');
        assert.equal(line?.['code'], 'GATEWAY_TIMEOUT');
        assert.match(String(line?.['cause']), /timeout/i);
      }
    });
  }

  test('slow with nothing else to give: 504 GATEWAY_TIMEOUT in the error shape, in time', async () => {
    await faulty.setMode('slow');
    const { status, body, ms } = await ask(reviewsOnly);
    assert.equal(status, 504);
    assert.equal(body.data, null);
    assert.equal(body.errors![0]!.extensions['code'], 'GATEWAY_TIMEOUT');
    assert.ok(ms < timeoutMs * 3, `answered in ${ms} ms`);
  });

  test('down with nothing else to give: data null and the masked error, 200 (a GraphQL response)', async () => {
    await faulty.setMode('down');
    const { status, body } = await ask(reviewsOnly);
    assert.equal(status, 200);
    assert.equal(body.data, null);
    assert.equal(body.errors![0]!.extensions['code'], 'INTERNAL_SERVER_ERROR');
    assert.equal(body.errors![0]!.message, 'Unexpected error.');
  });

  test('a client that leaves mid-request: its operation is finished and logged as it ended, no error, the gateway answers on', async () => {
    await faulty.setMode('slow');
    const requestId = `leaves-${planner}-${Math.random().toString(36).slice(2)}`;
    const logged = gw.lines.length;
    const client = new AbortController();
    const request = fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ query: partialQuery }),
      signal: client.signal,
    });
    setTimeout(() => client.abort(), timeoutMs / 4);
    await assert.rejects(request, { name: 'AbortError' });
    const lines = () => gw.lines.slice(logged).map((l) => JSON.parse(l) as Record<string, unknown>);
    const line = () => lines().find((l) => l['msg'] === 'request' && l['requestId'] === requestId);
    for (const until = performance.now() + timeoutMs * 10; !line() && performance.now() < until; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The subgraph's timeout ends the operation with the other subgraph's data: 200, as for a client that stayed.
    assert.equal(line()?.['status'], 200, JSON.stringify(lines()));
    assert.equal(lines().filter((l) => l['msg'] === 'request failed').length, 0, JSON.stringify(lines()));
    await faulty.setMode('ok');
    assert.equal((await ask(partialQuery)).status, 200);
  });

  test('the gateway recovers when the subgraph does', async () => {
    await faulty.setMode('ok');
    const { status, body } = await ask(partialQuery);
    assert.equal(status, 200);
    assert.equal(body.errors, undefined);
  });
});
