import { createServer, type Server } from 'node:http';
import { after, before } from 'node:test';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { composeSupergraph } from '../../src/compose/compose.js';
import { supergraphVersion } from '../../src/supergraph/version.js';
import type { TestWorker } from './worker.js';

const colorTypeDefs = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { color: String }`;

/** A subgraph answering `{ color }` with its own colour, after `delayMs` (so requests overlap a swap). */
export async function startColorSubgraph(color: string, delayMs = 0): Promise<{ url: string; close(): Promise<void> }> {
  const schema = buildSubgraphSchema({
    typeDefs: parse(colorTypeDefs),
    resolvers: { Query: { color: () => (delayMs > 0 ? new Promise((r) => setTimeout(() => r(color), delayMs)) : color) } },
  });
  const server = createServer(createYoga({ schema, logging: false, graphiql: false, landingPage: false }));
  await listen(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, close: () => close(server) };
}

/**
 * Two supergraphs with the same schema whose one subgraph answers differently: `{ color }` is
 * "a" on the first and "b" on the second, so every answer says which graph served it.
 */
export async function twoColorGraphs(delayMs = 0): Promise<{ a: string; b: string; close(): Promise<void> }> {
  const [red, blue] = await Promise.all([startColorSubgraph('a', delayMs), startColorSubgraph('b', delayMs)]);
  return {
    a: composeSupergraph([{ name: 'colors', url: red.url, typeDefs: colorTypeDefs }]),
    b: composeSupergraph([{ name: 'colors', url: blue.url, typeDefs: colorTypeDefs }]),
    close: async () => void (await Promise.all([red.close(), blue.close()])),
  };
}

/** What the stand-in registry answers next. */
export type RegistryAnswer =
  | { readonly kind: 'sdl'; readonly sdl: string; readonly contentType?: string; readonly status?: number }
  | { readonly kind: 'hang' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'huge'; readonly bytes: number };

/**
 * A supergraph URL whose answer the test sets: honours `If-None-Match` with the body's version
 * as `ETag` (304), can hang, reset the connection or stream a huge body. Records the requests.
 */
export async function startSupergraphServer(initial: RegistryAnswer): Promise<{
  url: string;
  set(answer: RegistryAnswer): void;
  readonly requests: { ifNoneMatch: string | undefined; authorization: string | undefined; status: number }[];
  close(): Promise<void>;
}> {
  let answer = initial;
  const requests: { ifNoneMatch: string | undefined; authorization: string | undefined; status: number }[] = [];
  const server: Server = createServer((req, res) => {
    const record = { ifNoneMatch: req.headers['if-none-match'], authorization: req.headers['authorization'], status: 0 };
    requests.push(record);
    const now = answer;
    if (now.kind === 'hang') return; // never answered; closed with the server
    if (now.kind === 'reset') return void req.socket.destroy();
    if (now.kind === 'huge') {
      record.status = 200;
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let sent = 0;
      const pump = (): void => {
        while (sent < now.bytes) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('error', () => {});
      return pump();
    }
    const etag = `"${supergraphVersion(now.sdl)}"`;
    const status = now.status ?? 200;
    if (status === 200 && req.headers['if-none-match'] === etag) {
      record.status = 304;
      res.writeHead(304, { etag });
      return void res.end();
    }
    record.status = status;
    res.writeHead(status, { 'content-type': now.contentType ?? 'text/plain', ...(status === 200 ? { etag } : {}) });
    res.end(now.sdl);
  });
  await listen(server);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/supergraph.graphql`,
    set: (next) => void (answer = next),
    requests,
    close: () => close(server),
  };
}

/** Listens on a free loopback port: the origin (`http://127.0.0.1:port`) and how to close it. */
export async function listenLoopback(server: Server): Promise<{ origin: string; close(): Promise<void> }> {
  await listen(server);
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => close(server) };
}

/** The two colour graphs for a test file: started before its tests, closed after them. */
export function twoColorGraphsForFile(): () => Awaited<ReturnType<typeof twoColorGraphs>> {
  let graphs: Awaited<ReturnType<typeof twoColorGraphs>> | undefined;
  before(async () => {
    graphs = await twoColorGraphs();
  });
  after(() => graphs?.close());
  return () => {
    if (!graphs) throw new Error('the graphs start before the tests');
    return graphs;
  };
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** `{ color }` through the gateway: the status and the colour (or the errors' text). */
export async function askColor(gatewayUrl: string): Promise<{ status: number; color: string }> {
  const response = await fetch(`${gatewayUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ color }' }),
  });
  const body = (await response.json()) as { data?: { color?: string }; errors?: unknown };
  return { status: response.status, color: body.data?.color ?? `errors: ${JSON.stringify(body.errors)}` };
}

export async function readiness(gatewayUrl: string): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${gatewayUrl}/readiness`);
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** `{ color }` through the Worker in workerd (from client address `ip`): the status and the colour (or the errors' text). */
export async function workerColor(worker: TestWorker, ip = '192.0.2.90'): Promise<{ status: number; color: string }> {
  const response = await worker.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ color }' }),
    clientIp: ip,
  });
  const body = (await response.json()) as { data?: { color?: string }; errors?: unknown };
  return { status: response.status, color: body.data?.color ?? `errors: ${JSON.stringify(body.errors)}` };
}

export async function workerReadiness(worker: TestWorker): Promise<{ status: number; body: Record<string, any> }> {
  const response = await worker.fetch('/readiness');
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
