import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { parseConfig } from '../src/config.js';
import type { GatewayProvider } from '../src/gateway/lifecycle.js';
import { createHandler } from '../src/lifecycle/handle.js';
import { createLogger } from '../src/log.js';
import { MemoryStore } from '../src/ratelimit/memoryStore.js';
import { closeDemo, postQuery, startTestGateway } from './support/gateway.js';

after(closeDemo);

/** A gateway whose runtime cannot be created: the fault a broken deployment produces. */
const brokenGateway: GatewayProvider = {
  lifecycle: 'isolate',
  acquire() {
    throw new Error('runtime exploded reading /srv/secret/supergraph.graphql');
  },
  async swap() {
    throw new Error('runtime exploded');
  },
  async dispose() {},
};

function brokenHandler(environment: string) {
  const lines: string[] = [];
  const config = parseConfig({ ENVIRONMENT: environment, CORS_ORIGINS: 'https://app.example' }, 'node');
  const handler = createHandler({
    config,
    gateway: brokenGateway,
    store: new MemoryStore(),
    log: createLogger('info', (line) => lines.push(line)),
  });
  return { handler, lines };
}

const ctx = { waitUntil() {}, clientAddress: '192.0.2.1' };
const graphqlRequest = (init: RequestInit = {}) =>
  new Request('http://gateway.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'https://app.example' },
    body: '{"query":"{ topProducts { name } }"}',
    ...init,
  });

describe('errors', () => {
  test('a thrown error gives 500 INTERNAL_SERVER_ERROR without a stack trace or detail in production', async () => {
    const { handler, lines } = brokenHandler('production');
    const response = await handler(graphqlRequest(), ctx);
    assert.equal(response.status, 500);
    assert.equal(response.headers.get('access-control-allow-origin'), 'https://app.example');
    const text = await response.text();
    const body = JSON.parse(text);
    assert.equal(body.errors.length, 1);
    assert.equal(body.errors[0].message, 'Unexpected error.');
    assert.equal(body.errors[0].extensions.code, 'INTERNAL_SERVER_ERROR');
    assert.equal(body.errors[0].extensions.requestId, response.headers.get('x-request-id'));
    assert.equal(body.errors[0].extensions.stacktrace, undefined);
    assert.doesNotMatch(text, /secret|\.ts|\.js|at /);
    assert.ok(
      lines.some((l) => l.includes('"request failed"')),
      'the failure is logged',
    );
    assert.ok(!lines.some((l) => l.includes('"stack"')), 'no stack in production logs');
  });

  test('a client gone before the gateway starts: 499 CLIENT_CLOSED_REQUEST in the shape, and the gateway is never asked', async () => {
    // The broken gateway throws when asked: a 499 (not a 500) means it was not.
    const { handler, lines } = brokenHandler('production');
    const response = await handler(graphqlRequest({ signal: AbortSignal.abort() }), ctx);
    assert.equal(response.status, 499);
    const body = (await response.json()) as { errors: { extensions: Record<string, unknown> }[] };
    assert.equal(body.errors[0]!.extensions['code'], 'CLIENT_CLOSED_REQUEST');
    assert.equal(body.errors[0]!.extensions['requestId'], response.headers.get('x-request-id'));
    assert.ok(!lines.some((l) => l.includes('"request failed"')), 'no failure logged');
    assert.ok(
      lines.some((l) => l.includes('"status":499')),
      'the request line says 499',
    );
  });

  test('in development the 500 carries the message and extensions.stacktrace as lines', async () => {
    const { handler } = brokenHandler('development');
    const response = await handler(graphqlRequest(), ctx);
    assert.equal(response.status, 500);
    const body = (await response.json()) as any;
    assert.match(body.errors[0].message, /runtime exploded/);
    assert.ok(Array.isArray(body.errors[0].extensions.stacktrace));
    assert.match(body.errors[0].extensions.stacktrace[0], /Error: runtime exploded/);
    assert.equal(response.headers.get('access-control-allow-origin'), 'https://app.example');
  });

  test('a malformed JSON body gives a 4xx JSON error, never a 500', async () => {
    const gw = await startTestGateway();
    try {
      for (const body of ['{bad', '', 'null', '[]', '{"query": 5}', '\u0000\u0001']) {
        const response = await fetch(`${gw.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        assert.ok(response.status >= 400 && response.status < 500, `${JSON.stringify(body)} → ${response.status}`);
        const json = (await response.json()) as any;
        assert.ok(Array.isArray(json.errors) && typeof json.errors[0].message === 'string');
        assert.equal(response.headers.get('access-control-allow-origin'), '*');
      }
      // An unparsable query, asked for in the GraphQL-over-HTTP media type, is a 400 too.
      const unparsable = await fetch(`${gw.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
        body: '{"query":"{"}',
      });
      assert.equal(unparsable.status, 400);
      assert.match(((await unparsable.json()) as any).errors[0].message, /Syntax Error/);
    } finally {
      await gw.close();
    }
  });
});

describe('CORS', () => {
  test('every kind of response (200, 400, 429, 500, preflight) carries the CORS headers', async () => {
    const origin = 'https://app.example';
    const gw = await startTestGateway({ CORS_ORIGINS: `${origin},https://other.example`, RATE_LIMIT_MAX_REQUESTS: '2' });
    try {
      const check = (response: Response, kind: string) => {
        assert.equal(response.headers.get('access-control-allow-origin'), origin, kind);
        assert.match(response.headers.get('vary') ?? '', /Origin/, kind);
        if (kind !== 'preflight') {
          const exposed = response.headers.get('access-control-expose-headers') ?? '';
          for (const h of ['X-Processing-Time', 'Server-Timing', 'X-Request-Id', 'RateLimit-Policy', 'RateLimit', 'Retry-After']) {
            assert.ok(exposed.includes(h), `${kind} exposes ${h}`);
          }
        }
      };
      const ok = await postQuery(gw.url, '{ topProducts { name } }', { origin });
      assert.equal(ok.status, 200);
      check(ok, '200');
      const bad = await fetch(`${gw.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin },
        body: '{bad',
      });
      assert.equal(bad.status, 400);
      check(bad, '400');
      const limited = await postQuery(gw.url, '{ topProducts { name } }', { origin });
      assert.equal(limited.status, 429);
      check(limited, '429');
      const preflight = await fetch(`${gw.url}/graphql`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-custom' },
      });
      assert.equal(preflight.status, 204);
      check(preflight, 'preflight');
      assert.equal(preflight.headers.get('access-control-allow-headers'), 'content-type, x-custom');
      assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
      assert.equal(preflight.headers.get('access-control-max-age'), '600');
    } finally {
      await gw.close();
    }
    const { handler } = brokenHandler('production');
    const failed = await handler(graphqlRequest(), ctx);
    assert.equal(failed.status, 500);
    assert.equal(failed.headers.get('access-control-allow-origin'), origin);
    assert.match(failed.headers.get('vary') ?? '', /Origin/);
  });

  test('a disallowed origin gets no Access-Control-Allow-Origin, on preflights and on answers', async () => {
    const gw = await startTestGateway({ CORS_ORIGINS: 'https://app.example' });
    try {
      const preflight = await fetch(`${gw.url}/graphql`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), null);
      assert.equal(preflight.headers.get('access-control-allow-methods'), null);
      const answer = await postQuery(gw.url, '{ topProducts { name } }', { origin: 'https://evil.example' });
      await answer.arrayBuffer();
      assert.equal(answer.headers.get('access-control-allow-origin'), null);
      assert.match(answer.headers.get('vary') ?? '', /Origin/);
    } finally {
      await gw.close();
    }
  });

  test('with CORS_ORIGINS=* any origin is allowed with "*" and no Vary: Origin is needed', async () => {
    const gw = await startTestGateway();
    try {
      const preflight = await fetch(`${gw.url}/graphql`, {
        method: 'OPTIONS',
        headers: { origin: 'https://anywhere.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    } finally {
      await gw.close();
    }
  });
});
