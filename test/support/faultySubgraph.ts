import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { demoSubgraphs } from './gateway.js';

/** How the faulty subgraph behaves: `ok` forwards to the real one; the others fail in their own way. */
export type Mode = 'ok' | 'down' | 'slow' | 'hang' | 'garbage' | 'html-500' | 'wrong-shape' | 'cut' | 'resolver-error';

/** The reviews subgraph behind a switch: forwards to the real one, or misbehaves. */
export interface FaultySubgraph {
  readonly url: string;
  /** Switches behaviour; `down` stops listening (connections refused), anything else listens again. */
  setMode(mode: Mode): Promise<void>;
  close(): Promise<void>;
}

/** Products (up) and reviews (faulty) in one query: `product` is nullable, so its failure is partial. */
export const partialQuery = '{ topProducts { name } product(upc: "1") { name reviews { body } } }';
/** Only the faulty subgraph: no data to give. */
export const reviewsOnly = '{ reviews { body } }';

/** What the modes that answer at once send back. */
const cannedAnswers: Partial<Record<Mode, { status: number; type: string; body: string }>> = {
  garbage: { status: 200, type: 'application/json', body: '<html>not json' },
  'html-500': { status: 500, type: 'text/html', body: '<h1>Internal Server Error</h1>' },
  'wrong-shape': { status: 200, type: 'application/json', body: '{"result":[1,2,3]}' },
  // A valid GraphQL response carrying the subgraph's own error.
  'resolver-error': { status: 200, type: 'application/json', body: '{"data":null,"errors":[{"message":"Reviews are closed."}]}' },
};

/** A subgraph in front of `target` (the real one) on a free loopback port; `slow` answers after `slowMs`. */
export async function startFaultySubgraph(target: string, slowMs: number): Promise<FaultySubgraph> {
  const state = { mode: 'ok' as Mode };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        const answer = cannedAnswers[state.mode];
        if (answer) {
          res.writeHead(answer.status, { 'content-type': answer.type }).end(answer.body);
          return;
        }
        switch (state.mode) {
          case 'cut':
            res.socket?.destroy();
            return;
          case 'hang':
            return;
          case 'slow':
            await new Promise((resolve) => setTimeout(resolve, slowMs));
            break;
        }
        const upstream = await fetch(target, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: Buffer.concat(chunks),
        });
        res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text());
      } catch {
        res.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    async setMode(mode) {
      if (mode === 'down' && server.listening) await stop();
      if (mode !== 'down' && !server.listening) await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      state.mode = mode;
    },
    close: () => (server.listening ? stop() : Promise.resolve()),
  };
}

/**
 * The demo subgraphs with the faulty one in front of reviews, and the supergraph that routes
 * reviews through it (close the demo with `closeDemo`).
 */
export async function faultyReviews(slowMs: number): Promise<{ faulty: FaultySubgraph; supergraphSdl: string }> {
  const demo = await demoSubgraphs();
  const reviews = demo.subgraphs.find((s) => s.name === 'reviews')!;
  const faulty = await startFaultySubgraph(reviews.url, slowMs);
  const supergraphSdl = demo.supergraphSdl.replace(reviews.url, faulty.url);
  assert.notEqual(supergraphSdl, demo.supergraphSdl);
  return { faulty, supergraphSdl };
}

/** The one `upstream error` line of a request, checked: warn, with the subgraph, the code and a cause. */
export function assertUpstreamLine(lines: Record<string, unknown>[], requestId: string, code: string): Record<string, unknown> {
  const mine = lines.filter((l) => l['msg'] === 'upstream error' && l['requestId'] === requestId);
  assert.equal(mine.length, 1, `one upstream error line: ${JSON.stringify(lines)}`);
  const line = mine[0]!;
  assert.equal(line['level'], 'warn');
  assert.equal(line['subgraph'], 'reviews');
  assert.equal(line['code'], code);
  assert.ok(typeof line['cause'] === 'string' && line['cause'].length > 0, JSON.stringify(line));
  return line;
}
