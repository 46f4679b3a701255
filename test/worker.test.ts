import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { closeDemo, crossSubgraphQuery, demoSubgraphs } from './support/gateway.js';
import { serveText, startWorker, type TestWorker } from './support/worker.js';

let supergraph: { url: string; close(): Promise<void> };
before(async () => {
  const demo = await demoSubgraphs();
  supergraph = await serveText(demo.supergraphSdl);
});
after(async () => {
  await supergraph.close();
  await closeDemo();
});

const query = (worker: TestWorker, q: string, clientIp: string, headers: Record<string, string> = {}) =>
  worker.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({ query: q }),
    clientIp,
  });

for (const lifecycle of ['isolate', 'request'] as const) {
  describe(`Worker bundle in workerd, GATEWAY_LIFECYCLE=${lifecycle}`, () => {
    let worker: TestWorker;
    before(async () => {
      worker = await startWorker({ SUPERGRAPH: supergraph.url, GATEWAY_LIFECYCLE: lifecycle, LOG_LEVEL: 'debug' });
    });
    after(() => worker.dispose());

    test('a federated query returns merged data with the lifecycle headers', async () => {
      const response = await query(worker, crossSubgraphQuery, '192.0.2.10', { origin: 'https://app.example' });
      assert.equal(response.status, 200);
      const body = (await response.json()) as any;
      assert.equal(body.errors, undefined);
      assert.ok(body.data.topProducts.some((p: any) => p.reviews.some((r: any) => r.author.name === 'Ada Lovelace')));
      assert.match(response.headers.get('x-processing-time') ?? '', /^\d+\.\d{2}ms$/);
      assert.match(response.headers.get('server-timing') ?? '', /total;dur=/);
      assert.equal(response.headers.get('ratelimit'), '"default";r=49;t=60');
      assert.equal(response.headers.get('access-control-allow-origin'), '*');
    });

    test('sequential requests each get the full data: nothing of one request is reused by the next', async () => {
      for (let i = 0; i < 5; i++) {
        const response = await query(worker, crossSubgraphQuery, `203.0.113.${i + 1}`);
        assert.equal(response.status, 200);
        const body = (await response.json()) as any;
        assert.equal(body.errors, undefined, JSON.stringify(body.errors));
        assert.ok(body.data.topProducts.length > 0);
      }
      const errors = worker.logs.filter((l) => l['level'] === 'error');
      assert.deepEqual(errors, [], 'no runtime errors (e.g. I/O shared across requests)');
    });

    test('50 concurrent federated queries all succeed with the same data', async () => {
      const bodies = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const response = await query(worker, crossSubgraphQuery, `198.51.100.${i + 1}`);
          assert.equal(response.status, 200);
          return JSON.stringify(await response.json());
        }),
      );
      assert.equal(new Set(bodies).size, 1);
      assert.ok(bodies[0]!.includes('Ada Lovelace'));
    });

    test('a preflight is answered 204 with CORS headers and is not counted', async () => {
      for (let i = 0; i < 60; i++) {
        const response = await worker.fetch('/graphql', {
          method: 'OPTIONS',
          headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
          clientIp: '192.0.2.20',
        });
        assert.equal(response.status, 204);
        assert.equal(response.headers.get('access-control-allow-origin'), '*');
        await response.arrayBuffer();
      }
      const response = await query(worker, '{ topProducts { name } }', '192.0.2.20');
      await response.arrayBuffer();
      assert.equal(response.headers.get('ratelimit'), '"default";r=49;t=60');
    });

    test('the 51st request from one client is answered 429 with Retry-After; CF-Connecting-IP is the key', async () => {
      for (let i = 0; i < 50; i++) {
        const response = await query(worker, '{ topProducts { name } }', '192.0.2.30', { 'x-forwarded-for': `10.0.0.${i}` });
        await response.arrayBuffer();
        assert.equal(response.status, 200);
      }
      const limited = await query(worker, '{ topProducts { name } }', '192.0.2.30');
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('retry-after'), '40');
      assert.equal(limited.headers.get('access-control-allow-origin'), '*');
      const body = (await limited.json()) as any;
      assert.equal(body.errors[0].extensions.code, 'RATE_LIMITED');
      const other = await query(worker, '{ topProducts { name } }', '192.0.2.31');
      await other.arrayBuffer();
      assert.equal(other.status, 200, 'another client is not affected');
    });

    test('a malformed body is a 400 JSON error with CORS headers', async () => {
      const response = await worker.fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://app.example' },
        body: '{bad',
        clientIp: '192.0.2.40',
      });
      assert.equal(response.status, 400);
      assert.equal(response.headers.get('access-control-allow-origin'), '*');
      assert.ok(Array.isArray(((await response.json()) as any).errors));
    });

    if (lifecycle === 'request') {
      test('the per-request runtime is disposed through ctx.waitUntil after the response', async () => {
        const response = await query(worker, '{ topProducts { name } }', '192.0.2.50');
        assert.equal(response.status, 200);
        await response.arrayBuffer();
        const requestId = response.headers.get('x-request-id');
        const line = await worker.waitForLog((l) => l['msg'] === 'gateway disposed' && l['requestId'] === requestId);
        assert.equal(line['level'], 'debug');
      });
    }
  });
}

describe('Worker error paths', () => {
  test('an unreachable SUPERGRAPH answers 503 in the error shape with CORS headers, and logs why', async () => {
    const missing = await serveText('not found', 404);
    const worker = await startWorker({ SUPERGRAPH: missing.url });
    try {
      const response = await query(worker, '{ topProducts { name } }', '192.0.2.60');
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('access-control-allow-origin'), '*');
      const body = (await response.json()) as any;
      assert.equal(body.errors[0].extensions.code, 'SERVICE_UNAVAILABLE');
      assert.doesNotMatch(JSON.stringify(body), /127\.0\.0\.1/);
      await worker.waitForLog((l) => l['msg'] === 'configuration error');
    } finally {
      await worker.dispose();
      await missing.close();
    }
  });

  test('a bad configuration value answers 503 and names the variable in the log', async () => {
    const worker = await startWorker({ SUPERGRAPH: supergraph.url, RATE_LIMIT_MAX_REQUESTS: 'abc' });
    try {
      const response = await query(worker, '{ topProducts { name } }', '192.0.2.61');
      assert.equal(response.status, 503);
      await response.arrayBuffer();
      const line = await worker.waitForLog((l) => l['msg'] === 'configuration error');
      assert.match(String(line['error']), /RATE_LIMIT_MAX_REQUESTS/);
    } finally {
      await worker.dispose();
    }
  });
});

/** The query the README's first screen gives to paste. */
const readmeQuery = '{ topProducts { name price reviews { body author { name } } } }';

describe('the Worker as deployed with no configuration', () => {
  test('serves the demo graph from subgraphs inside the isolate: the README query answers data, nothing leaves the Worker', async () => {
    const outbound: string[] = [];
    // No bindings at all, as `wrangler deploy` with an empty [vars] would run it; every fetch
    // that tries to leave the Worker is recorded and refused.
    const worker = await startWorker(
      { ALLOW_PRIVATE_SUBGRAPHS: '' },
      {
        outboundService: (request: Request) => {
          outbound.push(request.url);
          return new Response('no network in this test', { status: 502 });
        },
      },
    );
    try {
      const response = await query(worker, readmeQuery, '192.0.2.70');
      assert.equal(response.status, 200);
      const body = (await response.json()) as any;
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      assert.equal(body.data.topProducts.length, 5);
      assert.deepEqual(body.data.topProducts[0], {
        name: 'Table',
        price: 899,
        reviews: [
          { body: 'Love it!', author: { name: 'Ada Lovelace' } },
          { body: 'Prefer something else.', author: { name: 'Alan Turing' } },
        ],
      });
      assert.equal(response.headers.get('ratelimit-policy'), '"default";q=50;w=60');
      assert.deepEqual(outbound, []);
      const started = await worker.waitForLog((l) => l['msg'] === 'started');
      assert.equal(started['supergraph'], 'demo (in-isolate subgraphs)');
    } finally {
      await worker.dispose();
    }
  });

  test('a supergraph with loopback subgraphs answers 503 naming them and ALLOW_PRIVATE_SUBGRAPHS', async () => {
    const worker = await startWorker({ SUPERGRAPH: supergraph.url, ALLOW_PRIVATE_SUBGRAPHS: '' });
    try {
      const response = await query(worker, readmeQuery, '192.0.2.71');
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('access-control-allow-origin'), '*');
      const body = (await response.json()) as any;
      assert.equal(body.errors[0].extensions.code, 'SERVICE_UNAVAILABLE');
      assert.match(body.errors[0].message, /loopback or private addresses/);
      assert.match(body.errors[0].message, /products \(127\.0\.0\.1:\d+\)/);
      assert.match(body.errors[0].message, /ALLOW_PRIVATE_SUBGRAPHS=true/);
      assert.equal(body.errors[0].extensions.requestId, response.headers.get('x-request-id'));
    } finally {
      await worker.dispose();
    }
  });

  test('ENVIRONMENT=development allows them without ALLOW_PRIVATE_SUBGRAPHS', async () => {
    const worker = await startWorker({ SUPERGRAPH: supergraph.url, ALLOW_PRIVATE_SUBGRAPHS: '', ENVIRONMENT: 'development' });
    try {
      const response = await query(worker, readmeQuery, '192.0.2.72');
      assert.equal(response.status, 200);
      const body = (await response.json()) as any;
      assert.equal(body.data.topProducts.length, 5);
    } finally {
      await worker.dispose();
    }
  });
});
