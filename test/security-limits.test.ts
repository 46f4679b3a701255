import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ConfigError, parseConfig } from '../src/config.js';
import { defaultLimits } from '../src/security/limits.js';
import { closeDemo, startTestGateway, type TestGateway } from './support/gateway.js';
import { assertErrorShape } from './support/security.js';

const json = { 'content-type': 'application/json' };
const graphqlResponse = { ...json, accept: 'application/graphql-response+json' };
const accepts = { 'application/json': json, 'application/graphql-response+json': graphqlResponse };

function post(gw: TestGateway, body: unknown, headers: Record<string, string> = json): Promise<Response> {
  return fetch(`${gw.url}/graphql`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

describe('abuse limits: configuration', () => {
  test('safe defaults in production; development allows introspection and field suggestions', () => {
    assert.deepEqual(parseConfig({}, 'node').security, defaultLimits);
    assert.deepEqual(parseConfig({}, 'worker').security, defaultLimits);
    assert.equal(defaultLimits.maxBodyBytes, 102_400);
    assert.equal(defaultLimits.batchLimit, 0);
    assert.equal(defaultLimits.introspection, false);
    assert.equal(defaultLimits.fieldSuggestions, false);
    const dev = parseConfig({ ENVIRONMENT: 'development' }, 'node').security;
    assert.equal(dev.introspection, true);
    assert.equal(dev.fieldSuggestions, true);
    assert.equal(dev.maxDepth, defaultLimits.maxDepth);
  });

  test('every limit is read from the environment; bad values stop start-up naming the variable', () => {
    const security = parseConfig(
      {
        MAX_BODY_BYTES: '2048',
        MAX_DEPTH: '0',
        MAX_TOKENS: '500',
        MAX_ALIASES: '3',
        MAX_DIRECTIVES: '4',
        BATCH_LIMIT: '5',
        INTROSPECTION: 'on',
        FIELD_SUGGESTIONS: 'yes',
        UPSTREAM_TIMEOUT_MS: '2500',
      },
      'node',
    ).security;
    assert.deepEqual(security, {
      maxBodyBytes: 2048,
      maxDepth: 0,
      maxTokens: 500,
      maxAliases: 3,
      maxDirectives: 4,
      batchLimit: 5,
      introspection: true,
      fieldSuggestions: true,
      upstreamTimeoutMs: 2500,
    });
    for (const [name, value] of [
      ['MAX_BODY_BYTES', '0'],
      ['MAX_DEPTH', '-1'],
      ['MAX_TOKENS', '1e3'],
      ['BATCH_LIMIT', 'lots'],
      ['INTROSPECTION', 'maybe'],
      ['UPSTREAM_TIMEOUT_MS', '0'],
    ] as const) {
      assert.throws(
        () => parseConfig({ [name]: value }, 'node'),
        (error: unknown) => error instanceof ConfigError && error.variable === name,
        `${name}=${value}`,
      );
    }
  });
});

describe('abuse limits: each answered with a 4xx JSON error in the one shape', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({
      RATE_LIMIT_MAX_REQUESTS: '100000',
      MAX_BODY_BYTES: '4096',
      MAX_DEPTH: '4',
      MAX_TOKENS: '80',
      MAX_ALIASES: '2',
      MAX_DIRECTIVES: '2',
    });
  });
  after(async () => {
    await gw.close();
    await closeDemo();
  });

  test('a body over MAX_BODY_BYTES by Content-Length: 413 PAYLOAD_TOO_LARGE, connection closed', async () => {
    const response = await post(gw, { query: '{ topProducts { name } }', variables: { pad: 'x'.repeat(5000) } });
    assert.equal(response.headers.get('connection'), 'close');
    const body = await assertErrorShape(response, { status: 413, code: 'PAYLOAD_TOO_LARGE' });
    assert.equal(body.errors[0]!.extensions['maxBytes'], 4096);
    // At the limit it is read and served.
    const query = '{ topProducts { name } }';
    const padded = JSON.stringify({ query, variables: { pad: '' } });
    const exact = JSON.stringify({ query, variables: { pad: 'x'.repeat(4096 - padded.length) } });
    assert.equal(Buffer.byteLength(exact), 4096);
    const ok = await post(gw, exact);
    assert.equal(ok.status, 200, await ok.text());
  });

  test('a chunked body of unknown length: 413 while the client is still sending; the rest is never read', async () => {
    const url = new URL(gw.url);
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const cap = 256 * 1024 * 1024;
    const result = await new Promise<{ status: number; body: string; sent: number }>((resolve, reject) => {
      let sent = 0;
      let done = false;
      const req = httpRequest({
        host: url.hostname,
        port: url.port,
        path: '/graphql',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          done = true;
          resolve({ status: res.statusCode ?? 0, body, sent });
        });
      });
      req.on('error', (error) => {
        if (!done) reject(error);
      });
      const pump = (): void => {
        while (!done && sent < cap) {
          sent += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        if (!done) req.end();
      };
      req.write('{"query":"{ topProducts { name } }","pad":"');
      pump();
    });
    assert.equal(result.status, 413);
    assert.equal(JSON.parse(result.body).errors[0].extensions.code, 'PAYLOAD_TOO_LARGE');
    // A chunked body within the limit is read and served.
    const small = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: '/graphql',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.write('{"query":"{ topProd');
      req.end('ucts { name } }"}');
    });
    assert.equal(small.status, 200, small.body);
    assert.equal(JSON.parse(small.body).data.topProducts.length, 5);
    // The answer came long before the 256 MiB the client was prepared to send: only socket
    // buffers' worth was in flight, never the whole body.
    assert.ok(result.sent < 64 * 1024 * 1024, `sent ${result.sent} bytes before the 413`);
  });

  for (const [accept, headers] of Object.entries(accepts)) {
    test(`depth, tokens, aliases and directives over the limit: 400 with their codes (Accept: ${accept})`, async () => {
      const cases: [string, string, RegExp][] = [
        ['{ topProducts { reviews { author { reviews { body } } } } }', 'MAX_DEPTH_EXCEEDED', /depth limit of 4 exceeded, found 5/],
        [`{ ${'topProducts { name } '.repeat(20)}}`, 'MAX_TOKENS_EXCEEDED', /Token limit of 80 exceeded/],
        ['{ a: topProducts { name } b: topProducts { name } c: topProducts { name } }', 'MAX_ALIASES_EXCEEDED', /Aliases limit of 2/],
        [
          '{ topProducts { name @skip(if: false) price @skip(if: false) upc @include(if: true) } }',
          'MAX_DIRECTIVES_EXCEEDED',
          /Directives limit of 2/,
        ],
      ];
      for (const [query, code, message] of cases) {
        const body = await assertErrorShape(await post(gw, { query }, headers), { status: 400, code });
        assert.match(body.errors[0]!.message, message);
        assert.equal(body['data'], undefined);
      }
      // Within every limit, the same kinds of query are served.
      const ok = await post(gw, { query: '{ a: topProducts { name @skip(if: false) reviews { author { name } } } }' }, headers);
      assert.equal(ok.status, 200);
      assert.ok(((await ok.json()) as { data: unknown }).data);
    });
  }

  test('batching is off by default: an array of operations is 400 BAD_REQUEST', async () => {
    const response = await post(gw, [{ query: '{ topProducts { name } }' }, { query: '{ topProducts { upc } }' }]);
    const body = await assertErrorShape(response, { status: 400, code: 'BAD_REQUEST' });
    assert.match(body.errors[0]!.message, /Batching is not supported/);
  });

  test('a mutation over GET: 405 with Allow: POST', async () => {
    const url = `${gw.url}/graphql?query=${encodeURIComponent('mutation { __typename }')}`;
    const response = await fetch(url, { headers: { accept: 'application/json' } });
    assert.equal(response.headers.get('allow'), 'POST');
    const body = await assertErrorShape(response, { status: 405 });
    assert.match(body.errors[0]!.message, /mutation operation from a POST request/);
  });

  test('an unsupported content type: 415 UNSUPPORTED_MEDIA_TYPE (the runtime sends no body; Tollgate adds one)', async () => {
    for (const type of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x']) {
      const response = await post(gw, '{"query":"{ topProducts { name } }"}', { 'content-type': type });
      await assertErrorShape(response, { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    }
  });

  test('other methods and paths: 405 and 404 in the one shape', async () => {
    const put = await fetch(`${gw.url}/graphql`, { method: 'PUT', headers: json, body: '{}' });
    await assertErrorShape(put, { status: 405 });
    await assertErrorShape(await fetch(`${gw.url}/admin`), { status: 404, code: 'NOT_FOUND' });
  });
});

describe('introspection, field suggestions and batching, by environment and setting', () => {
  after(() => closeDemo());

  test('production: introspection refused (INTROSPECTION_DISABLED), suggestions hidden', async () => {
    const gw = await startTestGateway({ RATE_LIMIT_MAX_REQUESTS: '1000' });
    try {
      for (const query of ['{ __schema { types { name } } }', '{ __type(name: "User") { fields { name } } }']) {
        // GraphQL-over-HTTP: a validation error is 200 under application/json, 400 under its own type.
        const legacy = await post(gw, { query });
        assert.equal(legacy.status, 200);
        const legacyBody = (await legacy.json()) as { data?: unknown; errors: { extensions: { code: string } }[] };
        assert.equal(legacyBody.data, undefined);
        assert.equal(legacyBody.errors[0]!.extensions.code, 'INTROSPECTION_DISABLED');
        await assertErrorShape(await post(gw, { query }, graphqlResponse), { status: 400, code: 'INTROSPECTION_DISABLED' });
      }
      // __typename is not introspection.
      assert.equal((await post(gw, { query: '{ __typename }' })).status, 200);
      const typo = await assertErrorShape(await post(gw, { query: '{ topProduct { name } }' }, graphqlResponse), {
        status: 400,
        code: 'GRAPHQL_VALIDATION_FAILED',
      });
      assert.doesNotMatch(typo.errors[0]!.message, /Did you mean|topProducts/);
      assert.match(typo.errors[0]!.message, /\[Suggestion hidden\]/);
    } finally {
      await gw.close();
    }
  });

  test('development: introspection answered, suggestions shown; BATCH_LIMIT bounds batches (413 past it)', async () => {
    const gw = await startTestGateway({ ENVIRONMENT: 'development', BATCH_LIMIT: '2' });
    try {
      const schema = (await (await post(gw, { query: '{ __schema { queryType { name } } }' })).json()) as any;
      assert.equal(schema.data.__schema.queryType.name, 'Query');
      const typo = (await (await post(gw, { query: '{ topProduct { name } }' })).json()) as any;
      assert.match(typo.errors[0].message, /Did you mean "topProducts"/);
      const two = await post(gw, [{ query: '{ topProducts { name } }' }, { query: '{ topProducts { upc } }' }]);
      assert.equal(two.status, 200);
      assert.equal(((await two.json()) as unknown[]).length, 2);
      const three = await post(
        gw,
        [1, 2, 3].map(() => ({ query: '{ topProducts { name } }' })),
      );
      const body = await assertErrorShape(three, { status: 413 });
      assert.match(body.errors[0]!.message, /Batching is limited to 2/);
    } finally {
      await gw.close();
    }
  });
});
