import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { createRuntime } from '../src/gateway/runtime.js';
import { createLogger } from '../src/log.js';
import { defaultLimits } from '../src/security/limits.js';
import { inErrorShape } from '../src/security/errorShape.js';
import { withoutStacks } from '../src/security/redact.js';
import { closeDemo, demoSubgraphs, startTestGateway, type TestGateway } from './support/gateway.js';
import { assertShape } from './support/security.js';

/** Sends raw bytes and returns the raw answer (for what Node's HTTP parser refuses). */
function raw(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

function bodyOf(answer: string): unknown {
  return JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
}

describe('the one error shape, wherever an error comes from', () => {
  test('runtime answers without a JSON body (404, 415) or as a stream get the shape; statuses and headers stay', async () => {
    const empty = await inErrorShape(new Response(null, { status: 415, headers: { 'x-kept': 'yes' } }), 'rid-1');
    assert.equal(empty.status, 415);
    assert.equal(empty.headers.get('x-kept'), 'yes');
    const emptyBody = await empty.json();
    assertShape(emptyBody, 'rid-1');
    assert.equal(emptyBody.errors[0]!.extensions.code, 'UNSUPPORTED_MEDIA_TYPE');

    const html = await inErrorShape(new Response('<h1>Not Found</h1>', { status: 404, headers: { 'content-type': 'text/html' } }), 'rid-2');
    assert.match(html.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(((await html.json()) as any).errors[0].extensions.code, 'NOT_FOUND');

    const stream =
      'event: next\ndata: {"errors":[{"message":"GraphQL only supports GET and POST requests.","extensions":{"code":"BAD_REQUEST"}}]}\n\nevent: complete\ndata:\n\n';
    const sse = await inErrorShape(new Response(stream, { status: 405, headers: { 'content-type': 'text/event-stream' } }), 'rid-3');
    assert.match(sse.headers.get('content-type') ?? '', /application\/json/);
    const sseBody = (await sse.json()) as any;
    assert.equal(sseBody.errors[0].message, 'GraphQL only supports GET and POST requests.');
    assert.equal(sseBody.errors[0].extensions.requestId, 'rid-3');

    const own = await inErrorShape(
      new Response('{"errors":[{"message":"x"},{"extensions":{"code":"MINE"}}]}', {
        status: 400,
        headers: { 'content-type': 'application/graphql-response+json; charset=utf-8' },
      }),
      'rid-4',
    );
    assert.equal(own.headers.get('content-type'), 'application/graphql-response+json; charset=utf-8');
    const ownBody = (await own.json()) as any;
    assert.deepEqual(ownBody.errors[0].extensions, { code: 'BAD_REQUEST', requestId: 'rid-4' });
    assert.deepEqual(ownBody.errors[1], { message: 'Bad request.', extensions: { code: 'MINE', requestId: 'rid-4' } });
  });

  test('production log lines lose stack traces, keep messages', () => {
    const stack = 'SyntaxError: Unexpected token\n    at JSON.parse (<anonymous>)\n    at parse (/srv/app/node_modules/x/index.js:1:2)';
    assert.deepEqual(withoutStacks({ message: 'Unexpected token', stack, nested: { error: { stack, message: 'm' }, list: [stack] } }), {
      message: 'Unexpected token',
      nested: { error: { message: 'm' }, list: ['SyntaxError: Unexpected token'] },
    });
  });

  test('an unexpected error in the runtime: 500 "Unexpected error." in production (whatever NODE_ENV says), logged without its stack', async () => {
    const demo = await demoSubgraphs();
    const explode: GatewayPlugin = {
      onExecute() {
        throw new Error('secret internals at /srv/app/resolver.ts');
      },
    };
    for (const development of [false, true]) {
      const lines: Record<string, unknown>[] = [];
      const log = createLogger('debug', (line) => lines.push(JSON.parse(line)));
      // The runtime's own test for development is NODE_ENV: ENVIRONMENT decides here.
      const nodeEnv = process.env['NODE_ENV'];
      process.env['NODE_ENV'] = 'development';
      const runtime = createRuntime({
        supergraph: demo.supergraphSdl,
        development,
        log,
        security: { ...defaultLimits, introspection: development, fieldSuggestions: development },
        plugins: () => [explode],
      });
      try {
        const response = await runtime.fetch('http://gateway.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ topProducts { name } }' }),
        });
        const text = await response.text();
        if (!development) {
          assert.equal(response.status, 500);
          assert.doesNotMatch(text, /secret internals|\/srv\/app|originalError/);
          assert.match(text, /Unexpected error\./);
        }
        const logged = lines.filter((l) => l['component'] === 'runtime' && l['level'] === 'error');
        assert.ok(logged.length > 0, 'the runtime logged the error');
        const joined = JSON.stringify(logged);
        if (development) assert.match(joined, /\\n\s+at /, 'development keeps the stack');
        else assert.doesNotMatch(joined, /\\n\s+at |"stack"/, 'production drops the stack');
      } finally {
        if (nodeEnv === undefined) delete process.env['NODE_ENV'];
        else process.env['NODE_ENV'] = nodeEnv;
        await runtime.dispose();
      }
    }
  });
});

describe('requests Node refuses before the lifecycle, and GET parameters that are not JSON', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ RATE_LIMIT_MAX_REQUESTS: '1000' });
  });
  after(async () => {
    await gw.close();
    await closeDemo();
  });

  test('malformed HTTP: 400 in the one shape, connection closed', async () => {
    const answer = await raw(gw.url, 'GARBAGE / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(answer, /\r\nConnection: close\r\n/i);
    const body = bodyOf(answer);
    assertShape(body, null);
    assert.equal(body.errors[0]!.extensions.code, 'BAD_REQUEST');
  });

  test('headers over 16 KiB (a long URL too): 431 in the one shape', async () => {
    const answer = await raw(gw.url, `GET /graphql?query=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 431 /);
    assert.equal((bodyOf(answer) as any).errors[0].extensions.code, 'HEADERS_TOO_LARGE');
  });

  test('GET with variables or extensions that are not JSON: 400 BAD_REQUEST, not the runtime’s 500', async () => {
    for (const param of ['variables=%7Bnot-json', 'extensions=+', 'variables=x']) {
      const response = await fetch(`${gw.url}/graphql?query=${encodeURIComponent('{ topProducts { name } }')}&${param}`);
      assert.equal(response.status, 400, param);
      const body = await response.json();
      assertShape(body, response.headers.get('x-request-id'));
      assert.equal(body.errors[0]!.extensions.code, 'BAD_REQUEST');
    }
    assert.ok(!gw.logs.some((line) => line['level'] === 'error'), 'nothing logged as an error');
  });
});
