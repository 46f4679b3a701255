/**
 * Gateway lifecycle benchmark: `request` (runtime created and disposed per request, the seed
 * design) vs `isolate` (one runtime reused), on Node (the handler in process) and in workerd
 * (the built Worker bundle in Miniflare), against the real demo subgraphs over HTTP.
 * Rounds alternate between the two so machine noise hits both alike; the ratio is the result.
 *
 * Run: npm run build:worker && npx tsx bench/lifecycle.ts
 */
import { performance } from 'node:perf_hooks';
import { parseConfig } from '../src/config.js';
import type { GatewayLifecycle } from '../src/gateway/lifecycle.js';
import { startDemoSubgraphs } from '../src/demo/subgraphs.js';
import { silentLogger } from '../src/log.js';
import { MemoryStore } from '../src/ratelimit/memoryStore.js';
import { createTollgate } from '../src/tollgate.js';
import { serveText, startWorker } from '../test/support/worker.js';

const query = JSON.stringify({ query: '{ topProducts { name price reviews { body author { name } } } }' });
const rounds = Number(process.env['ROUNDS'] ?? 5);
const perRound = Number(process.env['REQUESTS'] ?? 200);
const concurrency = 10;

type Send = () => Promise<number>;

async function measure(send: Send): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < perRound) {
        const status = await send();
        if (status !== 200) throw new Error(`status ${status}`);
      }
    }),
  );
  return (perRound / (performance.now() - started)) * 1000;
}

async function compare(label: string, senders: Record<GatewayLifecycle, Send>): Promise<void> {
  const results: Record<GatewayLifecycle, number[]> = { request: [], isolate: [] };
  for (const lifecycle of ['request', 'isolate'] as const) await measure(senders[lifecycle]); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const lifecycle of ['request', 'isolate'] as const) results[lifecycle].push(await measure(senders[lifecycle]));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const request = median(results.request);
  const isolate = median(results.isolate);
  console.log(
    `${label.padEnd(8)} request: ${request.toFixed(0).padStart(5)} req/s   isolate: ${isolate.toFixed(0).padStart(5)} req/s   isolate/request: ${(isolate / request).toFixed(2)}×`,
  );
}

const demo = await startDemoSubgraphs();
try {
  console.log(`${rounds} alternating rounds of ${perRound} requests, ${concurrency} in flight; median req/s\n`);

  const node = (lifecycle: GatewayLifecycle): Send => {
    const config = parseConfig({ GATEWAY_LIFECYCLE: lifecycle, RATE_LIMIT_ENABLED: 'false' }, 'node');
    const { handler } = createTollgate(config, { supergraphSdl: demo.supergraphSdl, store: new MemoryStore(), log: silentLogger });
    const pending: Promise<unknown>[] = [];
    return async () => {
      const response = await handler(
        new Request('http://bench/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: query }),
        { clientAddress: '127.0.0.1', waitUntil: (p) => void pending.push(p) },
      );
      await response.text();
      return response.status;
    };
  };
  await compare('Node', { request: node('request'), isolate: node('isolate') });

  const supergraph = await serveText(demo.supergraphSdl);
  const workers = {
    request: await startWorker({
      SUPERGRAPH: supergraph.url,
      GATEWAY_LIFECYCLE: 'request',
      RATE_LIMIT_ENABLED: 'false',
      LOG_LEVEL: 'warn',
    }),
    isolate: await startWorker({
      SUPERGRAPH: supergraph.url,
      GATEWAY_LIFECYCLE: 'isolate',
      RATE_LIMIT_ENABLED: 'false',
      LOG_LEVEL: 'warn',
    }),
  };
  const worker =
    (lifecycle: GatewayLifecycle): Send =>
    async () => {
      const response = await workers[lifecycle].fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: query,
      });
      await response.text();
      return response.status;
    };
  await compare('workerd', { request: worker('request'), isolate: worker('isolate') });
  await workers.request.dispose();
  await workers.isolate.dispose();
  await supergraph.close();
} finally {
  await demo.close();
}
