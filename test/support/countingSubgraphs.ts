/**
 * The demo subgraphs behind counting forwarders: a supergraph whose every subgraph URL is a
 * loopback server that counts the requests it forwards to the real subgraph, so a test can show
 * that an answer was given without a single subgraph call.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { demoSubgraphs } from './gateway.js';

export interface CountingSubgraphs {
  /** The demo supergraph, routed through the forwarders. */
  readonly supergraphSdl: string;
  /** Requests forwarded so far, all subgraphs together. */
  calls(): number;
  close(): Promise<void>;
}

/** Starts one forwarder per demo subgraph (close the demo itself with `closeDemo`). */
export async function countingDemoSubgraphs(): Promise<CountingSubgraphs> {
  const demo = await demoSubgraphs();
  let calls = 0;
  const servers: Server[] = [];
  let supergraphSdl = demo.supergraphSdl;
  for (const subgraph of demo.subgraphs) {
    const server = createServer((req, res) => {
      calls++;
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        fetch(subgraph.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: req.headers.accept ?? 'application/json' },
          body: Buffer.concat(chunks),
        })
          .then(async (upstream) => {
            res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
            res.end(Buffer.from(await upstream.arrayBuffer()));
          })
          .catch(() => res.destroy());
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const forwarder = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    supergraphSdl = supergraphSdl.replace(subgraph.url, forwarder);
  }
  assert.ok(
    demo.subgraphs.every((s) => !supergraphSdl.includes(s.url)),
    'every subgraph routed through a forwarder',
  );
  return {
    supergraphSdl,
    calls: () => calls,
    close: () =>
      Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.closeAllConnections();
              server.close(() => resolve());
            }),
        ),
      ).then(() => {}),
  };
}
