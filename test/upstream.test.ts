import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GraphQLError } from 'graphql';
import { upstreamFailure } from '../src/gateway/upstreamErrors.js';
import { assertUpstreamLine, partialQuery, reviewsOnly, faultyReviews, type FaultySubgraph, type Mode } from './support/faultySubgraph.js';
import { closeDemo } from './support/gateway.js';
import { assertShape, startCustomGateway, type CustomGateway } from './support/security.js';

/**
 * A subgraph that is down, slow past UPSTREAM_TIMEOUT_MS, hung, or answering garbage: the
 * gateway answers in time with GraphQL errors (and the other subgraphs' data where the plan
 * allows), never a 5xx outside the error shape, and logs the cause. Each failure has a code that
 * says which (SUBGRAPH_UNAVAILABLE, DOWNSTREAM_SERVICE_ERROR, GATEWAY_TIMEOUT) and the request id;
 * the subgraph's name and the cause reach the client in development only, and the log always.
 */

const timeoutMs = 400;
const mediaTypes = ['application/json', 'application/graphql-response+json'];

// Both planners: the Rust one is Node's default, the JavaScript one runs on Workers (and on request).
for (const planner of ['rust', 'js'] as const)
  describe(`upstream failure (${planner} planner): a faulty subgraph never hangs the gateway or escapes the error shape`, () => {
    let faulty: FaultySubgraph;
    let gw: CustomGateway;
    /** The same graph in development: the subgraph's name and the cause reach the client. */
    let dev: CustomGateway;
    let subgraphPort: string;
    before(async () => {
      let sdl: string;
      ({ faulty, supergraphSdl: sdl } = await faultyReviews(timeoutMs * 3));
      subgraphPort = new URL(faulty.url).port;
      gw = await startCustomGateway(sdl, {
        UPSTREAM_TIMEOUT_MS: String(timeoutMs),
        RATE_LIMIT_MAX_REQUESTS: '10000',
        QUERY_PLANNER: planner,
      });
      dev = await startCustomGateway(sdl, { UPSTREAM_TIMEOUT_MS: String(timeoutMs), QUERY_PLANNER: planner, ENVIRONMENT: 'development' });
    });
    after(async () => {
      await gw.close();
      await dev.close();
      await faulty.close();
      await closeDemo();
    });

    async function ask(query: string, accept = 'application/json', gateway = gw) {
      const logged = gateway.lines.length;
      const started = performance.now();
      const response = await fetch(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept, 'x-request-id': `upstream-${Math.random().toString(36).slice(2)}` },
        body: JSON.stringify({ query }),
      });
      const text = await response.text();
      const ms = performance.now() - started;
      const body = JSON.parse(text) as { data?: any; errors?: { message: string; extensions: Record<string, unknown> }[] };
      // Never a 5xx outside the error shape; never the subgraph's raw answer; in production never
      // its address, the cause or the runtime's original error either.
      if (response.status >= 400) assertShape(body, response.headers.get('x-request-id'));
      assert.doesNotMatch(text, /<html>|<h1>|not json/, text);
      if (gateway === gw)
        assert.doesNotMatch(text, new RegExp(`127\\.0\\.0\\.1|:${subgraphPort}|originalError|"cause"|ECONNREFUSED|HTTP 500`), text);
      const requestId = response.headers.get('x-request-id')!;
      // Every line the gateway wrote for it says something.
      const lines = gateway.lines.slice(logged).map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(
        lines.filter((l) => typeof l['msg'] !== 'string' || l['msg'] === ''),
        [],
        'no line without a message',
      );
      return { status: response.status, body, ms, requestId, text, lines };
    }

    test('all up: the partial query has data from both subgraphs', async () => {
      await faulty.setMode('ok');
      const { status, body } = await ask(partialQuery);
      assert.equal(status, 200);
      assert.ok(body.data.product.reviews.length > 0);
    });

    /** Per failure: the code the client gets, and the cause the log (and development) give. */
    const failures = {
      down: { code: 'SUBGRAPH_UNAVAILABLE', cause: /^connect ECONNREFUSED 127\.0\.0\.1:\d+$/ },
      cut: { code: 'SUBGRAPH_UNAVAILABLE', cause: /socket hang up|ECONNRESET/ },
      garbage: { code: 'DOWNSTREAM_SERVICE_ERROR', cause: /^HTTP 200: the body is not JSON$/ },
      'html-500': { code: 'DOWNSTREAM_SERVICE_ERROR', cause: /^HTTP 500$/ },
      'wrong-shape': { code: 'DOWNSTREAM_SERVICE_ERROR', cause: /^HTTP 200: not a GraphQL result$/ },
    } as const;

    for (const [mode, expected] of Object.entries(failures)) {
      test(`${mode}: 200 with the other subgraph's data, ${expected.code} at the failed field with the request id, both media types; the cause in the log`, async () => {
        await faulty.setMode(mode as Mode);
        for (const accept of mediaTypes) {
          const { status, body, ms, requestId, lines } = await ask(partialQuery, accept);
          // With data, 200: GraphQL-over-HTTP requires a 2xx for data under its own media type.
          assert.equal(status, 200);
          assert.equal(body.data.topProducts.length, 5);
          assert.equal(body.data.product, null);
          assert.equal(body.errors?.length, 1, JSON.stringify(body));
          assert.deepEqual(body.errors![0]!.extensions, { code: expected.code, requestId });
          assert.ok(body.errors![0]!.message.length > 0);
          assert.ok(ms < timeoutMs * 5, `answered in ${ms} ms`);
          assert.match(String(assertUpstreamLine(lines, requestId, expected.code)['cause']), expected.cause);
          assert.ok(lines.some((l) => l['msg'] === 'request' && l['requestId'] === requestId && l['status'] === 200));
        }
      });
    }

    test("development: the subgraph's name and the cause beside the code (refused, 500, timeout)", async () => {
      const cases = [
        { mode: 'down', code: 'SUBGRAPH_UNAVAILABLE', cause: new RegExp(`^connect ECONNREFUSED 127\\.0\\.0\\.1:${subgraphPort}$`) },
        { mode: 'html-500', code: 'DOWNSTREAM_SERVICE_ERROR', cause: /^HTTP 500$/ },
        { mode: 'slow', code: 'GATEWAY_TIMEOUT', cause: /timeout/i },
      ] as const;
      for (const { mode, code, cause } of cases) {
        await faulty.setMode(mode);
        const { status, body, requestId, lines } = await ask(partialQuery, 'application/json', dev);
        assert.equal(status, 200);
        assert.equal(body.data.product, null);
        const extensions = body.errors![0]!.extensions;
        assert.deepEqual(Object.keys(extensions).sort(), ['cause', 'code', 'requestId', 'serviceName'], JSON.stringify(body));
        assert.equal(extensions['code'], code);
        assert.equal(extensions['requestId'], requestId);
        assert.equal(extensions['serviceName'], 'reviews');
        assert.match(String(extensions['cause']), cause);
        assert.equal(assertUpstreamLine(lines, requestId, code)['cause'], extensions['cause']);
      }
    });

    test('an error the subgraph sends in a GraphQL response is its own: passed on as before, not relabelled', async () => {
      await faulty.setMode('resolver-error');
      const { status, body, requestId, lines } = await ask(partialQuery);
      assert.equal(status, 200);
      assert.equal(body.data.product, null);
      assert.equal(body.errors![0]!.message, 'Reviews are closed.');
      assert.equal(body.errors![0]!.extensions['code'], 'DOWNSTREAM_SERVICE_ERROR');
      assert.equal(assertUpstreamLine(lines, requestId, 'DOWNSTREAM_SERVICE_ERROR')['cause'], 'Reviews are closed.');
    });

    for (const mode of ['slow', 'hang'] as const) {
      test(`${mode}: cut at UPSTREAM_TIMEOUT_MS; partial data with GATEWAY_TIMEOUT, both media types; logged`, async () => {
        await faulty.setMode(mode);
        for (const accept of mediaTypes) {
          const { status, body, ms, requestId, lines } = await ask(partialQuery, accept);
          // With data, 200 (GraphQL-over-HTTP requires 2xx for data under its media type).
          assert.equal(status, 200);
          assert.equal(body.data.topProducts.length, 5);
          assert.equal(body.data.product, null);
          assert.equal(body.errors![0]!.extensions['code'], 'GATEWAY_TIMEOUT');
          assert.deepEqual(body.errors![0]!.extensions, { code: 'GATEWAY_TIMEOUT', requestId });
          assert.ok(ms >= timeoutMs * 0.9 && ms < timeoutMs * 3, `answered in ${ms} ms`);
          assert.match(String(assertUpstreamLine(lines, requestId, 'GATEWAY_TIMEOUT')['cause']), /timeout/i);
        }
      });
    }

    test('slow with nothing else to give: 504 GATEWAY_TIMEOUT in the error shape, in time', async () => {
      await faulty.setMode('slow');
      const { status, body, ms, requestId } = await ask(reviewsOnly);
      assert.equal(status, 504);
      assert.equal(body.data, null);
      assert.deepEqual(body.errors![0]!.extensions, { code: 'GATEWAY_TIMEOUT', requestId });
      assert.ok(ms < timeoutMs * 3, `answered in ${ms} ms`);
    });

    test('down or failing with nothing else to give: data null and the coded error, 200 under both media types', async () => {
      // `data: null` is a response GraphQL-over-HTTP recommends 200 for, whatever the media type.
      for (const [mode, code] of [
        ['down', 'SUBGRAPH_UNAVAILABLE'],
        ['html-500', 'DOWNSTREAM_SERVICE_ERROR'],
      ] as const) {
        await faulty.setMode(mode);
        for (const accept of mediaTypes) {
          const { status, body, requestId } = await ask(reviewsOnly, accept);
          assert.equal(status, 200);
          assert.equal(body.data, null);
          assert.deepEqual(body.errors![0]!.extensions, { code, requestId });
        }
      }
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

describe("upstreamFailure: the transport's errors by what happened, a subgraph's own errors left alone", () => {
  const transportError = (code: string, message: string, originalError?: Error, extensions: Record<string, unknown> = {}) =>
    new GraphQLError(message, {
      extensions: { code, request: { method: 'POST' }, ...extensions },
      ...(originalError ? { originalError } : {}),
    });

  test("undici's `fetch failed`: the network error under it, not the URL the transport adds", () => {
    const fetchFailed = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 10.0.0.7:4001') });
    assert.deepEqual(
      upstreamFailure(transportError('SUBREQUEST_HTTP_ERROR', 'fetch failed to http://10.0.0.7:4001/graphql', fetchFailed)),
      {
        code: 'SUBGRAPH_UNAVAILABLE',
        cause: 'connect ECONNREFUSED 10.0.0.7:4001',
      },
    );
  });

  test('a call aborted by a timeout signal is a timeout, whatever the transport called it', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const error = transportError('SUBREQUEST_HTTP_ERROR', timeout.message, timeout, { http: { status: 504 } });
    assert.equal(upstreamFailure(error)?.code, 'GATEWAY_TIMEOUT');
  });

  test('a non-2xx answer is its status; a 2xx one what was wrong with its body; causes are one short line', () => {
    const html = transportError(
      'RESPONSE_VALIDATION_FAILED',
      'Unexpected response: "<h1>Bad Gateway</h1>"',
      new SyntaxError('Unexpected token <'),
      {
        response: { status: 502, body: '<h1>Bad Gateway</h1>' },
      },
    );
    assert.deepEqual(upstreamFailure(html), { code: 'DOWNSTREAM_SERVICE_ERROR', cause: 'HTTP 502' });
    const empty = transportError('RESPONSE_VALIDATION_FAILED', 'No response returned', new Error('No response returned'), {
      response: { status: 200 },
    });
    assert.deepEqual(upstreamFailure(empty), { code: 'DOWNSTREAM_SERVICE_ERROR', cause: 'HTTP 200: not a GraphQL result' });
    const long = upstreamFailure(transportError('SUBREQUEST_HTTP_ERROR', `${'x'.repeat(500)}\n    at somewhere`));
    assert.equal(long?.cause.length, 200);
  });

  test("a subgraph's own error (its code, or the runtime's DOWNSTREAM_SERVICE_ERROR) is not a failure of the call", () => {
    assert.equal(upstreamFailure(new GraphQLError('Reviews are closed.', { extensions: { code: 'DOWNSTREAM_SERVICE_ERROR' } })), undefined);
    assert.equal(upstreamFailure(new GraphQLError('No.', { extensions: { code: 'FORBIDDEN' } })), undefined);
    assert.equal(upstreamFailure('not an error'), undefined);
  });
});
