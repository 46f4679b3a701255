import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { composeSupergraph } from '../src/compose/compose.js';
import { closeDemo, crossSubgraphQuery, demoSubgraphs, postQuery } from './support/gateway.js';
import { runGatewayExpectingFailure, startGatewayProcess } from './support/process.js';

after(closeDemo);

/** A subgraph whose one field answers after the requested delay: an in-flight request on demand. */
async function startSlowSubgraph() {
  const typeDefs = `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
    type Query { slow(ms: Int!): String }`;
  const schema = buildSubgraphSchema({
    typeDefs: parse(typeDefs),
    resolvers: { Query: { slow: (_: unknown, { ms }: { ms: number }) => new Promise((r) => setTimeout(() => r(`waited ${ms}`), ms)) } },
  });
  const server = createServer(createYoga({ schema, logging: false, graphiql: false, landingPage: false }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  return {
    subgraph: { name: 'slow', url, typeDefs },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('the Node gateway process', () => {
  test('a port in use: one `tollgate:` line naming the address and PORT, exit 1, no stack trace', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    try {
      const { code, stderr } = await runGatewayExpectingFailure({ HOST: '127.0.0.1', PORT: String(port) });
      assert.equal(code, 1);
      const lines = stderr.split('\n').filter((line) => line.startsWith('tollgate:'));
      assert.deepEqual(lines, [
        `tollgate: 127.0.0.1:${port} is already in use: stop what holds it, or set PORT (and HOST) to another address`,
      ]);
      assert.doesNotMatch(stderr, /\n\s+at /);
    } finally {
      holder.close();
    }
  });

  test('with no configuration it serves the demo: a federated query, one JSON log line per request', async () => {
    const gateway = await startGatewayProcess({});
    try {
      const response = await postQuery(gateway.url, crossSubgraphQuery);
      assert.equal(response.status, 200);
      const body = (await response.json()) as any;
      assert.ok(body.data.topProducts[0].reviews[0].author.name);
      const started = gateway.logs.find((l) => l['msg'] === 'started')!;
      assert.equal(started['supergraph'], 'demo');
      assert.equal(started['store'], 'memory');
      assert.equal(started['node'], process.version);
      assert.match(gateway.stderr(), /curl -s http:\/\/127\.0\.0\.1:\d+\/graphql/);
      assert.match(gateway.stderr(), /Mode: production .* ENVIRONMENT=development for GraphiQL/);
      const requestId = response.headers.get('x-request-id');
      await waitFor(() => gateway.logs.some((l) => l['msg'] === 'request' && l['requestId'] === requestId));
      const line = gateway.logs.find((l) => l['requestId'] === requestId && l['msg'] === 'request')!;
      assert.deepEqual(Object.keys(line).sort(), [
        'client',
        'gatewayMs',
        'level',
        'method',
        'ms',
        'msg',
        'operation',
        'path',
        'rateLimit',
        'rateLimitDecision',
        'rateLimitMs',
        'rateLimitPolicy',
        'requestId',
        'status',
        'time',
      ]);
      assert.equal(line['operation'], '(anonymous)');
      assert.equal(line['rateLimit'], 'allowed');
    } finally {
      assert.equal(await gateway.stop(), 0);
    }
  });

  test('on SIGTERM it stops accepting, finishes the in-flight request and its waitUntil work, then exits 0', async () => {
    const demo = await demoSubgraphs();
    const slow = await startSlowSubgraph();
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-'));
    const file = join(dir, 'supergraph.graphql');
    writeFileSync(file, composeSupergraph([...demo.subgraphs, slow.subgraph]));
    const gateway = await startGatewayProcess({ SUPERGRAPH: file, GATEWAY_LIFECYCLE: 'request', LOG_LEVEL: 'debug' });
    try {
      const inFlight = postQuery(gateway.url, '{ slow(ms: 1500) }');
      await new Promise((r) => setTimeout(r, 400));
      gateway.child.kill('SIGTERM');
      await waitFor(() => gateway.logs.some((l) => l['msg'] === 'shutdown'));
      // Stopped accepting: a new connection is refused while the old request is still running.
      const { port } = new URL(gateway.url);
      const refused = await new Promise<string>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
      assert.equal(refused, 'ECONNREFUSED');
      const response = await inFlight;
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { data: { slow: 'waited 1500' } });
      assert.equal(await gateway.exited, 0);
      const msgs = gateway.logs.map((l) => l['msg']);
      const disposed = msgs.lastIndexOf('gateway disposed');
      assert.ok(disposed !== -1, 'the per-request runtime was disposed through waitUntil');
      assert.ok(disposed < msgs.indexOf('stopped'), 'before the process stopped');
    } finally {
      await gateway.stop('SIGKILL');
      await slow.close();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
