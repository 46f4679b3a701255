/**
 * Child-process entry of the demo subgraphs for the Worker pair (bench/worker.ts): starts the
 * three demo subgraphs (src/demo/subgraphs.ts) on free loopback ports, each behind a memo (as the
 * workload's subgraphs, bench/workload/subgraphs.ts: the data is static, so an answer is kept by
 * request after the first and the subgraph process costs little CPU on a machine it shares with
 * the gateways and the load generator), writes their composed supergraph to the path given as the
 * first argument, without upstream deduplication (bench/workload/transport.ts says why), tells the
 * parent over IPC, and exits when the parent disconnects.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeSupergraph } from '../../src/compose/compose.js';
import { startDemoSubgraphs } from '../../src/demo/subgraphs.js';
import { withoutUpstreamDedupe } from '../workload/transport.js';

const [path] = process.argv.slice(2);
if (!path || !process.send) throw new Error('usage: forked with IPC; argument: the supergraph output path');
const demo = await startDemoSubgraphs();

/** A server answering from its memo, asking `upstream` on a miss. */
function memo(upstream: string): Server {
  const cache = new Map<string, { status: number; contentType: string; body: Buffer }>();
  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const key = `${req.method} ${req.url} ${req.headers['accept'] ?? ''}\n${body.toString()}`;
    let hit = cache.get(key);
    if (!hit) {
      const response = await fetch(upstream, {
        method: req.method ?? 'GET',
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json', accept: req.headers['accept'] ?? '*/*' },
        ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body }),
      });
      hit = {
        status: response.status,
        contentType: response.headers.get('content-type') ?? 'application/json',
        body: Buffer.from(await response.arrayBuffer()),
      };
      if (response.ok) cache.set(key, hit);
    }
    res.writeHead(hit.status, { 'content-type': hit.contentType, 'content-length': hit.body.length });
    res.end(hit.body);
  }
  return createServer((req, res) => {
    void answer(req, res).catch((error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error)));
  });
}

const servers: Server[] = [];
const fronted = [];
for (const subgraph of demo.subgraphs) {
  const server = memo(subgraph.url);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  fronted.push({ ...subgraph, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql` });
}
writeFileSync(path, withoutUpstreamDedupe(composeSupergraph(fronted), fronted));
process.send({ type: 'ready' });
process.on('disconnect', () => {
  for (const server of servers) {
    server.close();
    server.closeAllConnections();
  }
  void demo.close().then(() => process.exit(0));
});
