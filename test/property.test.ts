import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { parseConfig } from '../src/config.js';
import { clientKey } from '../src/identity/clientKey.js';
import { addressKey, parseIp } from '../src/identity/ip.js';
import { parseTrustProxy } from '../src/identity/trustProxy.js';
import type { RequestEvent } from '../src/lifecycle/handle.js';
import { silentLogger } from '../src/log.js';
import { MemoryStore } from '../src/ratelimit/memoryStore.js';
import { createTollgate, type Tollgate } from '../src/tollgate.js';
import { closeDemo, demoSubgraphs, startTestGateway, type TestGateway } from './support/gateway.js';
import { assertShape } from './support/security.js';

/**
 * Property-based tests (fast-check) of what a client may send: random methods, paths, query
 * strings, headers and bodies never get a 5xx, never cause an unhandled rejection, and every
 * error is JSON in the one shape with CORS headers; forwarding headers from an untrusted peer
 * never change the client key. Run counts are bounded to keep the file within a few seconds.
 */

const allowedOrigin = 'https://app.example';
const env = {
  CORS_ORIGINS: allowedOrigin,
  RATE_LIMIT_MAX_REQUESTS: '1000000',
  MAX_BODY_BYTES: '2048',
  LOG_LEVEL: 'error',
};

/** Run counts; PROPERTY_RUNS_FACTOR=10 for a longer local search. */
const runs = (n: number): number => Math.round(n * Number(process.env['PROPERTY_RUNS_FACTOR'] ?? 1));

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);

// ---------- arbitraries ----------

/** Printable ASCII without CR/LF: what a header value can be on the wire. */
const headerValue = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,60}$/);
const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}$/);

const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD') },
  { weight: 1, arbitrary: token.map((t) => t.toUpperCase()).filter((m) => !['CONNECT', 'TRACE', 'TRACK'].includes(m)) },
);

const path = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('/graphql', '/healthcheck', '/readiness', '/', '/graphql/', '/GRAPHQL', '/graphql/x') },
  { weight: 2, arbitrary: fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)) },
);

const queries = [
  '{ topProducts { name } }',
  '{ topProducts { name reviews { body author { name } } } }',
  'mutation { __typename }',
  '{ __schema { types { name } } }',
  '{ topProducts { reviews { author { reviews { product { reviews { body } } } } } } }',
  'query Q($n: Int) { topProducts(first: $n) { name } }',
  '{ boom }',
  '{',
  '',
];
const query = fc.oneof(fc.constantFrom(...queries), fc.string({ maxLength: 200 }));

const searchParams = fc
  .record(
    {
      query,
      variables: fc.oneof(fc.json({ maxDepth: 2 }), fc.string({ maxLength: 40 })),
      operationName: fc.oneof(fc.constant('Q'), fc.string({ maxLength: 20 })),
      extensions: fc.oneof(fc.json({ maxDepth: 2 }), fc.string({ maxLength: 40 })),
      junk: fc.string({ maxLength: 40 }),
    },
    { requiredKeys: [] },
  )
  .map((params) => new URLSearchParams(params as Record<string, string>).toString());

const body = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record(
        { query, variables: fc.option(fc.jsonValue({ maxDepth: 3 })), operationName: fc.option(fc.string({ maxLength: 20 })) },
        { requiredKeys: ['query'] },
      )
      .map((b) => JSON.stringify(b)),
  },
  { weight: 1, arbitrary: fc.array(fc.record({ query }), { maxLength: 4 }).map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 600 }) },
  { weight: 1, arbitrary: fc.integer({ min: 2000, max: 6000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const contentType = fc.oneof(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/graphql-response+json',
    'application/graphql',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=xyz',
    'text/plain',
    'application/json; charset=utf-16',
  ),
  headerValue,
);
const accept = fc.oneof(
  fc.constantFrom(
    'application/json',
    'application/graphql-response+json',
    '*/*',
    'text/html',
    'text/event-stream',
    'multipart/mixed',
    'image/png',
  ),
  headerValue,
);
const origin = fc.oneof(fc.constant(allowedOrigin), fc.constant('https://evil.example'), fc.constant(undefined), headerValue);

const headers = fc
  .record(
    {
      'content-type': contentType,
      accept,
      'x-request-id': headerValue,
      'x-forwarded-for': headerValue,
      'x-real-ip': headerValue,
      'cf-connecting-ip': headerValue,
      forwarded: headerValue,
      'access-control-request-method': fc.constantFrom('POST', 'GET', 'DELETE'),
      'access-control-request-headers': headerValue,
      'content-encoding': fc.constantFrom('gzip', 'br', 'identity', 'deflate'),
      'content-length': fc.nat({ max: 10_000 }).map(String),
      extra: headerValue,
    },
    { requiredKeys: [] },
  )
  .chain((h) => fc.option(token).map((name) => (name && name.toLowerCase() !== 'host' ? { ...h, [name]: 'x' } : h)));

const hostileRequest = fc.record({ method, path, search: searchParams, headers, body, origin });
/** Over the wire, methods Node's HTTP parser knows (others it refuses before the lifecycle). */
const wireRequest = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND', 'PURGE', 'SEARCH', 'MKCOL'),
  path,
  search: searchParams,
  headers,
  body,
  origin,
});
type HostileRequest = typeof hostileRequest extends fc.Arbitrary<infer T> ? T : never;

function headersOf(r: HostileRequest): Record<string, string> {
  const all: Record<string, string> = {};
  for (const [name, value] of Object.entries(r.headers)) if (typeof value === 'string') all[name] = value;
  if (r.origin !== undefined) all['origin'] = r.origin;
  return all;
}

/** The properties every answer has, whatever was asked. */
function checkAnswer(r: HostileRequest, status: number, get: (name: string) => string | null, text: string | undefined): void {
  const label = `${r.method} ${r.path}?${r.search} → ${status} ${text?.slice(0, 200) ?? ''}`;
  assert.ok(status >= 100 && status < 500, `no 5xx: ${label}`);
  const preflight = r.method === 'OPTIONS' && r.origin !== undefined && r.headers['access-control-request-method'] !== undefined;
  if (preflight) {
    assert.equal(status, 204, label);
  } else {
    assert.ok(get('x-request-id'), `X-Request-Id: ${label}`);
  }
  if (status >= 400) {
    // CORS on errors too: Vary: Origin with an allowlist, and the allowed origin's header.
    assert.match(get('vary') ?? '', /Origin/, `Vary: ${label}`);
    if (r.origin === allowedOrigin) assert.equal(get('access-control-allow-origin'), allowedOrigin, `CORS: ${label}`);
    else assert.equal(get('access-control-allow-origin'), null, `no CORS for other origins: ${label}`);
    if (r.method !== 'HEAD') {
      assert.match(get('content-type') ?? '', /json/, `JSON: ${label}`);
      let parsed: unknown;
      assert.doesNotThrow(() => (parsed = JSON.parse(text ?? '')), `parsable JSON: ${label}`);
      assertShape(parsed, get('x-request-id'));
    }
  }
}

describe('property: hostile requests through the in-process handler', () => {
  let tollgate: Tollgate;
  const events: RequestEvent[] = [];
  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    const demo = await demoSubgraphs();
    tollgate = createTollgate(parseConfig({ ...env, TRUST_PROXY: '10.0.0.0/8' }, 'node'), {
      supergraphSdl: demo.supergraphSdl,
      store: new MemoryStore(),
      log: silentLogger,
      observe: (event) => void events.push(event),
    });
  });
  after(async () => {
    await tollgate.close();
    process.off('unhandledRejection', onUnhandled);
  });

  test('never a 5xx; errors are JSON in the one shape with CORS headers', async () => {
    const pending: Promise<unknown>[] = [];
    await fc.assert(
      fc.asyncProperty(hostileRequest, async (r) => {
        const hasBody = r.method !== 'GET' && r.method !== 'HEAD' && r.body !== undefined;
        let request: Request;
        try {
          request = new Request(`http://tollgate.test${r.path}?${r.search}`, {
            method: r.method,
            headers: headersOf(r),
            ...(hasBody ? { body: r.body as BodyInit } : {}),
          });
        } catch {
          return; // Not a request a client could send (the platform refuses to build it).
        }
        const response = await tollgate.handler(request, {
          clientAddress: '192.0.2.7',
          waitUntil: (p) => void pending.push(p),
        });
        const text = r.method === 'HEAD' ? undefined : await response.text();
        checkAnswer(r, response.status, (name) => response.headers.get(name), text);
      }),
      { numRuns: runs(300) },
    );
    await Promise.allSettled(pending);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
  });

  test('forwarding headers from an untrusted peer never change the client key the limiter uses', async () => {
    const peer = fc.oneof(fc.ipV4(), fc.ipV6()).filter((ip) => !ip.startsWith('10.'));
    const forged = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      headerValue,
      fc.array(fc.ipV4(), { minLength: 1, maxLength: 4 }).map((a) => a.join(', ')),
    );
    await fc.assert(
      fc.asyncProperty(peer, forged, forged, forged, forged, async (address, xff, realIp, cf, fwd) => {
        events.length = 0;
        const request = new Request('http://tollgate.test/graphql', {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-forwarded-for': xff,
            'x-real-ip': realIp,
            'cf-connecting-ip': cf,
            forwarded: `for=${fwd}`,
          },
          body: '{"query":"{ __typename }"}',
        });
        const response = await tollgate.handler(request, { clientAddress: address, waitUntil: () => {} });
        await response.body?.cancel();
        assert.equal(events[0]?.clientKey, addressKey(parseIp(address)!));
      }),
      { numRuns: runs(150) },
    );
  });
});

describe('property: clientKey with untrusted peers (pure, many runs)', () => {
  test('none, and CIDR lists that do not hold the peer: the key is the peer, whatever the headers say', () => {
    const trusts = [parseTrustProxy('none')!, parseTrustProxy('10.0.0.0/8, fc00::/7')!, parseTrustProxy('loopback')!];
    const peer = fc
      .oneof(
        fc.ipV4(),
        fc.ipV6(),
        fc.ipV4().map((ip) => `::ffff:${ip}`),
      )
      .filter((ip) => {
        const parsed = parseIp(ip)!;
        return !['private', 'uniqueLocal', 'loopback'].includes(parsed.range());
      });
    const value = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      headerValue,
      fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { maxLength: 5 }).map((a) => a.join(',')),
    );
    const forwarding = fc.record(
      { 'x-forwarded-for': value, 'x-real-ip': value, 'cf-connecting-ip': value, forwarded: value.map((v) => `for=${v}`) },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(peer, forwarding, fc.constantFrom(...trusts), (address, forged, trust) => {
        const key = clientKey(new Headers(forged as Record<string, string>), address, trust);
        assert.equal(key, clientKey(new Headers(), address, trust));
        assert.equal(key, addressKey(parseIp(address)!));
      }),
      { numRuns: runs(2000) },
    );
  });
});

describe('property: hostile requests over HTTP to the Node server', () => {
  let gw: TestGateway;
  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    gw = await startTestGateway(env);
  });
  after(async () => {
    await gw.close();
    await closeDemo();
    process.off('unhandledRejection', onUnhandled);
  });

  test('never a 5xx; errors are JSON in the one shape with CORS headers (raw node:http client)', async () => {
    const url = new URL(gw.url);
    await fc.assert(
      fc.asyncProperty(wireRequest, async (r) => {
        const payload = r.body === undefined ? undefined : Buffer.from(r.body as string | Uint8Array);
        const sent = headersOf(r);
        // The wire needs a true length (a client-chosen one is covered in-process above; malformed
        // HTTP, which Node's parser refuses before the lifecycle, in security-limits.test.ts).
        delete sent['content-length'];
        if (payload !== undefined) sent['content-length'] = String(payload.byteLength);
        const answer = await new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }>(
          (resolve, reject) => {
            const req = httpRequest(
              { host: url.hostname, port: url.port, method: r.method, path: `${r.path}?${r.search}`, headers: sent },
              (res) => {
                const chunks: Buffer[] = [];
                res.on('data', (c: Buffer) => chunks.push(c));
                res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }));
                res.on('error', reject);
              },
            );
            req.on('error', reject);
            req.end(payload);
          },
        );
        const get = (name: string): string | null => {
          const v = answer.headers[name];
          return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
        };
        checkAnswer(r, answer.status, get, r.method === 'HEAD' ? undefined : answer.text);
      }),
      { numRuns: runs(150) },
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
    assert.ok(!gw.logs.some((line) => line['level'] === 'error' && line['msg'] === 'request failed'), 'no request failed');
  });
});
