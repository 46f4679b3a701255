/**
 * `npx tsx bench/supergraph-swap.ts`: what a supergraph swap costs on Node (the built gateway,
 * `npm run build` first), with the two colour graphs of the tests (one subgraph each, answering
 * `{ color }` with "a" or "b"), the supergraph a watched file:
 *
 * - requests/s and p99 for `SWAP_SECONDS` (default 5) of steady load, then as long with a swap
 *   every second (`SWAP_CONNECTIONS` connections, default 10), and the non-2xx count;
 * - the time from the file's change to the first answer on the new graph (median and max of 20);
 * - RSS (from /metrics) and V8 heap used after 1 swap and after 120 more (the load's and the
 *   timings' swaps included: `afterMany.swaps` says how many), each after full garbage
 *   collections in the gateway, asked for through its inspector (opened by SIGUSR1 on a free
 *   loopback port): without them the heap figure is mostly the load's garbage.
 *   `SWAP_QUERY_PLANNER` (`js` or `rust`) picks the planner; unset, Node's default.
 *
 * Prints the figures; writes nothing. A figure of this machine at this moment, not a target.
 * `npm run bench` runs it too with BENCH_SUPERGRAPH_SWAP=1 (`measureSupergraphSwap`), its figures
 * then in BENCHMARKS.md and bench/results/latest.json.
 */
import autocannon from 'autocannon';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startGatewayProcess, type GatewayProcess } from '../test/support/process.js';
import { askColor, twoColorGraphs } from '../test/support/supergraphs.js';

interface LoadFigures {
  readonly rps: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly errors: number;
}

export interface SupergraphSwapResult {
  readonly connections: number;
  readonly seconds: number;
  readonly steady: LoadFigures;
  readonly swapping: LoadFigures;
  readonly timeToNewGraphMs: { readonly median: number; readonly max: number };
  readonly afterOne: { readonly rssMiB: number; readonly heapMiB: number };
  readonly afterMany: { readonly swaps: number; readonly rssMiB: number; readonly heapMiB: number };
}

/** The measurements above, on a gateway started and stopped here; `seconds` of load each, at `connections`. */
export async function measureSupergraphSwap(options: {
  readonly seconds: number;
  readonly connections: number;
}): Promise<SupergraphSwapResult> {
  const { seconds, connections } = options;
  const graphs = await twoColorGraphs();
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-swap-bench-'));
  const file = join(dir, 'supergraph.graphql');
  writeFileSync(file, graphs.a);
  const planner = process.env['SWAP_QUERY_PLANNER'];
  const gateway = await startGatewayProcess({
    SUPERGRAPH: file,
    RATE_LIMIT_ENABLED: 'false',
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    // The inspector is opened only to collect garbage before a memory reading.
    NODE_OPTIONS: '--inspect-port=127.0.0.1:0',
    ...(planner ? { QUERY_PLANNER: planner } : {}),
  }).catch(async (error: unknown) => {
    await graphs.close();
    throw error;
  });
  const metricsUrl = /http:\/\/\S+\/metrics/.exec(String(gateway.logs.find((l) => l['msg'] === 'started')?.['metrics']))?.[0];
  let current = 'a';

  function swap(): string {
    current = current === 'a' ? 'b' : 'a';
    writeFileSync(`${file}.tmp`, current === 'a' ? graphs.a : graphs.b);
    renameSync(`${file}.tmp`, file);
    return current;
  }

  async function load(withSwaps: boolean): Promise<LoadFigures> {
    const timer = withSwaps ? setInterval(swap, 1000) : undefined;
    const result = await autocannon({
      url: `${gateway.url}/graphql`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ color }' }),
      connections,
      duration: seconds,
    });
    clearInterval(timer);
    return { rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
  }

  async function timeToNewGraph(): Promise<number> {
    const started = performance.now();
    const expected = swap();
    while ((await askColor(gateway.url)).color !== expected) {
      // Sequential requests: the first answer on the new graph ends the wait.
    }
    return performance.now() - started;
  }

  async function memory(): Promise<{ rssMiB: number; heapMiB: number }> {
    await new Promise((r) => setTimeout(r, 2000));
    const heapBytes = await heapUsedAfterCollection(gateway);
    const text = await (await fetch(metricsUrl!)).text();
    const rssBytes = Number(/^process_resident_memory_bytes (\S+)/m.exec(text)?.[1]);
    return { rssMiB: rssBytes / 2 ** 20, heapMiB: heapBytes / 2 ** 20 };
  }

  try {
    await load(false); // warm-up
    const steady = await load(false);
    await timeToNewGraph();
    const afterOne = await memory();
    const swapping = await load(true);
    const times: number[] = [];
    for (let i = 0; i < 20; i++) times.push(await timeToNewGraph());
    times.sort((x, y) => x - y);
    for (let i = 0; i < 100; i++) await timeToNewGraph();
    const loads = gateway.logs.filter((l) => l['msg'] === 'supergraph loaded').length;
    const afterMany = { swaps: loads - 1, ...(await memory()) };
    const timeToNewGraphMs = { median: Math.round(times[10]!), max: Math.round(times[19]!) };
    return { connections, seconds, steady, swapping, timeToNewGraphMs, afterOne, afterMany };
  } finally {
    await gateway.stop();
    await graphs.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The gateway's V8 heap in use after full garbage collections, through its inspector: opened by
 * SIGUSR1 on the first call (the process runs with `--inspect-port=127.0.0.1:0`), its address read
 * from the process's stderr.
 */
async function heapUsedAfterCollection(gateway: GatewayProcess): Promise<number> {
  const address = (): string | undefined => /ws:\/\/127\.0\.0\.1:\d+\/[\w-]+/.exec(gateway.stderr())?.[0];
  if (address() === undefined) gateway.child.kill('SIGUSR1');
  const deadline = Date.now() + 10_000;
  while (address() === undefined) {
    if (Date.now() > deadline) throw new Error(`the gateway's inspector did not open: ${gateway.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const socket = new WebSocket(address()!);
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve, { once: true });
    socket.addEventListener('error', reject, { once: true });
  });
  const answers = new Map<number, (result: unknown) => void>();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) answers.get(message.id)?.(message.result);
  });
  let id = 0;
  const call = (method: string): Promise<unknown> =>
    new Promise((resolve) => {
      answers.set(++id, resolve);
      socket.send(JSON.stringify({ id, method }));
    });
  try {
    for (let i = 0; i < 3; i++) await call('HeapProfiler.collectGarbage');
    return ((await call('Runtime.getHeapUsage')) as { usedSize: number }).usedSize;
  } finally {
    socket.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await measureSupergraphSwap({
    seconds: Number(process.env['SWAP_SECONDS'] ?? 5),
    connections: Number(process.env['SWAP_CONNECTIONS'] ?? 10),
  });
  console.log(JSON.stringify(result, null, 2));
}
