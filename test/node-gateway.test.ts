import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { closeDemo, crossSubgraphQuery, postQuery, startTestGateway } from './support/gateway.js';

after(closeDemo);

for (const lifecycle of ['isolate', 'request'] as const) {
  describe(`Node gateway, GATEWAY_LIFECYCLE=${lifecycle}`, () => {
    test('a cross-subgraph query returns data merged from all three subgraphs', async () => {
      const gw = await startTestGateway({ GATEWAY_LIFECYCLE: lifecycle });
      try {
        const response = await postQuery(gw.url, crossSubgraphQuery);
        assert.equal(response.status, 200);
        const body = (await response.json()) as any;
        assert.equal(body.errors, undefined);
        const table = body.data.topProducts.find((p: any) => p.name === 'Table');
        assert.equal(table.price, 899); // products
        assert.ok(table.reviews.length > 0); // reviews
        assert.equal(typeof table.reviews[0].author.name, 'string'); // users
      } finally {
        await gw.close();
      }
    });

    test('every response carries X-Processing-Time, Server-Timing, X-Request-Id and rate-limit headers', async () => {
      const gw = await startTestGateway({ GATEWAY_LIFECYCLE: lifecycle });
      try {
        const response = await postQuery(gw.url, '{ topProducts { name } }', { 'x-request-id': 'client-id-123' });
        await response.arrayBuffer();
        assert.match(response.headers.get('x-processing-time') ?? '', /^\d+\.\d{2}ms$/);
        assert.match(
          response.headers.get('server-timing') ?? '',
          /^ratelimit;dur=\d+\.\d{2}, gateway;dur=\d+\.\d{2}, total;dur=\d+\.\d{2}$/,
        );
        assert.equal(response.headers.get('x-request-id'), 'client-id-123');
        assert.equal(response.headers.get('ratelimit-policy'), '"default";q=50;w=60');
        assert.equal(response.headers.get('ratelimit'), '"default";r=49;t=60');

        const insane = await postQuery(gw.url, '{ topProducts { name } }', { 'x-request-id': 'bad id with spaces' });
        await insane.arrayBuffer();
        assert.match(insane.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
        const line = gw.logs.find((l) => l['requestId'] === 'client-id-123');
        assert.ok(line, 'a JSON log line with the request id');
        assert.equal(line['status'], 200);
        assert.equal(line['rateLimit'], 'allowed');
        assert.equal(typeof line['ms'], 'number');
      } finally {
        await gw.close();
      }
    });

    test('50 concurrent federated queries all succeed', async () => {
      const gw = await startTestGateway({ GATEWAY_LIFECYCLE: lifecycle, RATE_LIMIT_MAX_REQUESTS: '1000' });
      try {
        const bodies = await Promise.all(
          Array.from({ length: 50 }, async () => {
            const response = await postQuery(gw.url, crossSubgraphQuery);
            assert.equal(response.status, 200);
            return JSON.stringify(await response.json());
          }),
        );
        assert.equal(new Set(bodies).size, 1, 'every answer is the same merged data');
        assert.ok(bodies[0]!.includes('Ada Lovelace'));
      } finally {
        await gw.close();
      }
    });
  });
}

describe('rate limiting through the Node server', () => {
  test('200 concurrent requests from one client: exactly 50 answered 200, 150 answered 429', async () => {
    const gw = await startTestGateway();
    try {
      const statuses = await Promise.all(
        Array.from({ length: 200 }, async () => {
          const response = await postQuery(gw.url, '{ topProducts { name } }');
          await response.arrayBuffer();
          return response.status;
        }),
      );
      assert.equal(statuses.filter((s) => s === 200).length, 50);
      assert.equal(statuses.filter((s) => s === 429).length, 150);
    } finally {
      await gw.close();
    }
  });

  test('the 51st request is rejected with 429, Retry-After and the error shape; the block is not extended', async () => {
    const gw = await startTestGateway({ ENVIRONMENT: 'production' });
    try {
      for (let i = 0; i < 50; i++) {
        const response = await postQuery(gw.url, '{ topProducts { name } }');
        await response.arrayBuffer();
        assert.equal(response.status, 200, `request ${i + 1}`);
        // t counts down from 60 as the window passes (50 requests take a while on a loaded machine).
        const [, remaining, t] = /^"default";r=(\d+);t=(\d+)$/.exec(response.headers.get('ratelimit') ?? '') ?? [];
        assert.equal(Number(remaining), 49 - i);
        assert.ok(Number(t) >= 50 && Number(t) <= 60, `t=${t}`);
      }
      const limited = await postQuery(gw.url, '{ topProducts { name } }', { origin: 'https://app.example' });
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('retry-after'), '40');
      assert.equal(limited.headers.get('ratelimit'), '"default";r=0;t=40');
      assert.equal(limited.headers.get('access-control-allow-origin'), '*');
      assert.match(limited.headers.get('content-type') ?? '', /application\/json/);
      const body = (await limited.json()) as any;
      assert.equal(body.errors[0].extensions.code, 'RATE_LIMITED');
      assert.equal(body.errors[0].extensions.retryAfter, 40);
      assert.equal(body.errors[0].extensions.requestId, limited.headers.get('x-request-id'));
      const again = await postQuery(gw.url, '{ topProducts { name } }');
      await again.arrayBuffer();
      assert.equal(again.status, 429);
      assert.ok(Number(again.headers.get('retry-after')) <= 40);
    } finally {
      await gw.close();
    }
  });

  test('development mode lets 200 requests through; production blocks the 51st', async () => {
    for (const environment of ['development', 'dev', 'DEV']) {
      const dev = await startTestGateway({ ENVIRONMENT: environment });
      try {
        const statuses = await Promise.all(
          Array.from({ length: 200 }, async () => {
            const response = await postQuery(dev.url, '{ topProducts { name } }');
            await response.arrayBuffer();
            assert.equal(response.headers.get('ratelimit'), null);
            return response.status;
          }),
        );
        assert.deepEqual(new Set(statuses), new Set([200]), environment);
      } finally {
        await dev.close();
      }
    }
    const devLimited = await startTestGateway({ ENVIRONMENT: 'development', RATE_LIMIT_ENABLED: 'true' });
    const prod = await startTestGateway({ ENVIRONMENT: 'production' });
    try {
      for (const gw of [devLimited, prod]) {
        const statuses: number[] = [];
        for (let i = 0; i < 51; i++) {
          const response = await postQuery(gw.url, '{ topProducts { name } }');
          await response.arrayBuffer();
          statuses.push(response.status);
        }
        assert.equal(statuses.filter((s) => s === 200).length, 50);
        assert.equal(statuses[50], 429);
      }
    } finally {
      await devLimited.close();
      await prod.close();
    }
  });

  test('health, readiness and preflights are never rate limited or counted', async () => {
    const gw = await startTestGateway({ RATE_LIMIT_MAX_REQUESTS: '2' });
    try {
      for (let i = 0; i < 20; i++) {
        for (const path of ['/healthcheck', '/readiness']) {
          const response = await fetch(gw.url + path);
          await response.arrayBuffer();
          assert.equal(response.status, 200, path);
          assert.equal(response.headers.get('ratelimit'), null);
        }
        const preflight = await fetch(`${gw.url}/graphql`, {
          method: 'OPTIONS',
          headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
        });
        assert.equal(preflight.status, 204);
      }
      const readiness = (await (await fetch(`${gw.url}/readiness`)).json()) as any;
      const { supergraph, ...rest } = readiness;
      assert.deepEqual(rest, { status: 'ready', store: { kind: 'memory', status: 'ok' } });
      assert.match(supergraph.version, /^[0-9a-f]{12}$/);
      assert.equal(supergraph.lastUpdate.ok, true);
      assert.equal(supergraph.loadedAt, supergraph.lastUpdate.at);
      const first = await postQuery(gw.url, '{ topProducts { name } }');
      await first.arrayBuffer();
      assert.equal(first.headers.get('ratelimit'), '"default";r=1;t=60');
    } finally {
      await gw.close();
    }
  });
});

describe('client identity on Node', () => {
  const spoofed: Record<string, string>[] = [
    { 'x-forwarded-for': '203.0.113.7' },
    { 'x-real-ip': '203.0.113.8' },
    { 'cf-connecting-ip': '203.0.113.9' },
    { forwarded: 'for=203.0.113.10' },
  ];

  test('forwarding headers from an untrusted peer do not change the client key', async () => {
    const gw = await startTestGateway({ RATE_LIMIT_MAX_REQUESTS: '4' });
    try {
      // Four requests, each claiming another address, all count against the socket's address.
      for (const headers of spoofed) {
        const response = await postQuery(gw.url, '{ topProducts { name } }', headers);
        await response.arrayBuffer();
        assert.equal(response.status, 200);
      }
      const fifth = await postQuery(gw.url, '{ topProducts { name } }', { 'x-forwarded-for': '198.51.100.1' });
      await fifth.arrayBuffer();
      assert.equal(fifth.status, 429);
    } finally {
      await gw.close();
    }
  });

  test('with TRUST_PROXY naming the peer, the client is read from the right of X-Forwarded-For', async () => {
    const gw = await startTestGateway({ RATE_LIMIT_MAX_REQUESTS: '1', TRUST_PROXY: '127.0.0.1' });
    try {
      const send = async (xff: string) => {
        const response = await postQuery(gw.url, '{ topProducts { name } }', { 'x-forwarded-for': xff });
        await response.arrayBuffer();
        return response.status;
      };
      assert.equal(await send('198.51.100.1'), 200);
      assert.equal(await send('198.51.100.1'), 429);
      // The leftmost value is the client's own writing: the rightmost untrusted one counts.
      assert.equal(await send('10.9.9.9, 198.51.100.1'), 429);
      assert.equal(await send('198.51.100.1, 198.51.100.2'), 200);
      // A different real client behind the same proxy has its own budget.
      assert.equal(await send('198.51.100.3'), 200);
    } finally {
      await gw.close();
    }
  });
});
