/**
 * The rate-limit stores on Workers, measured in workerd in one run: the built Worker bundle
 * (dist/worker/index.js, `npm run build:worker`) in Miniflare once per store — `memory`,
 * `durable-object` (the RATE_LIMITER binding of RateLimiterObject, SQLite-backed, in the same
 * workerd), `upstash` (the Upstash REST stand-in in a process of its own, in front of a private
 * redis-server) and `redis` (REDIS_URL: a TCP connection per request to a private redis-server) —
 * all four running at once, taking turns in rounds (the order rotated every round), each idle
 * while another is measured. Everything on loopback.
 *
 * Timed from outside workerd (its clock stands still between I/O, so nothing it reports about
 * itself is a duration): the client's time from sending a request to having read its answer,
 * over keep-alive HTTP to Miniflare's entry socket.
 *
 * 1. Decision latency (one request in flight; limit 1 per client, `RATE_LIMIT_MAX_REQUESTS=1`):
 *    every client address is new, and sends three `{ __typename }` requests one after another —
 *    the first is allowed (the key's first decision; for a Durable Object, the object is created),
 *    the second is answered 429 by the store (the object is warm now: the figure a busy client
 *    sees), the third 429 from the isolate's own memory of blocks (no store call; memory: the
 *    MemoryStore's block). A 429 runs no GraphQL, so the 429 decided by the store minus the
 *    memory store's is the store's cost per decision. Every decision's label is read from the
 *    Worker's request log and checked (no decision failed open or fell back).
 * 2. Decisions/s and the gateway's requests/s (limits never reached): `{ __typename }` (the
 *    cheapest request that needs a decision) and the demo query (topProducts → reviews → author,
 *    the in-isolate demo subgraphs: no subgraph process), at BENCH_WS_CONNECTIONS connections
 *    from a pool of client addresses (each key's object warmed up first). Only responses completed
 *    inside each window count; workerd's CPU per request (the Durable Object's included: it runs
 *    in the same workerd) and the store processes' beside it.
 *
 * Every request carries its own `cf-connecting-ip` (198.18.0.0/15), so the isolate's block cache
 * never answers for another client. The deadline (RATE_LIMIT_TIMEOUT_MS) is 5 s so that every
 * decision is the store's, even on a loaded machine; a warning in the log (a decision let through
 * on a timeout or an error) is counted and reported.
 *
 *   npx tsx bench/workers-stores.ts        (about 3 minutes; builds first unless BENCH_SKIP_BUILD=1)
 *
 * Also a section of `npm run bench` (BENCH_SECTIONS=workers-stores). Settings: BENCH_WS_ROUNDS
 * (default 5), BENCH_WS_KEYS (new client addresses per store and round in the latency part, 100),
 * BENCH_WS_POOL (client addresses the load part cycles through, per store, 200),
 * BENCH_WS_CONNECTIONS (10), BENCH_WS_WINDOW (s, 2), BENCH_WS_WARMUP (s per store and workload, 3).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { buildForBench } from './build.js';
import { processTree } from './gateways/contenders.js';
import { load, round, type Window } from './measure.js';
import { quantile } from './paired.js';

export type StoreName = 'memory' | 'durable-object' | 'upstash' | 'redis';
const storeNames: readonly StoreName[] = ['memory', 'durable-object', 'upstash', 'redis'];

export interface WorkerStoreSettings {
  readonly rounds: number;
  /** New client addresses per store and round in the latency part (three requests each). */
  readonly keys: number;
  readonly connections: number;
  readonly windowSeconds: number;
  readonly rampSeconds: number;
  readonly warmupSeconds: number;
  /** Client addresses the throughput part cycles through, per store. */
  readonly pool: number;
}

export const defaultWorkerStoreSettings = (env: NodeJS.ProcessEnv = process.env): WorkerStoreSettings => ({
  rounds: Number(env['BENCH_WS_ROUNDS'] ?? 5),
  keys: Number(env['BENCH_WS_KEYS'] ?? 100),
  connections: Number(env['BENCH_WS_CONNECTIONS'] ?? 10),
  windowSeconds: Number(env['BENCH_WS_WINDOW'] ?? 2),
  rampSeconds: 0.5,
  warmupSeconds: Number(env['BENCH_WS_WARMUP'] ?? 3),
  pool: Number(env['BENCH_WS_POOL'] ?? 200),
});

/** Latencies of one kind of request, ms: pooled percentiles and each round's. */
export interface LatencyFigures {
  readonly samples: number;
  readonly p50: number;
  readonly p99: number;
  readonly roundP50: readonly number[];
  readonly roundP99: readonly number[];
}

/** One workload under load: per round, and the median round. */
export interface RateFigures {
  /** Responses/s per round (all answered 200). */
  readonly rounds: readonly number[];
  readonly median: number;
  /** Client latency over every response in the windows, ms. */
  readonly p50: number;
  readonly p99: number;
  /** workerd's CPU (its whole process tree) per request, ms, over all windows. */
  readonly workerdCpuMsPerRequest: number;
  /** The store's own processes (redis-server, the REST stand-in), µs per request; 0 where it runs in workerd. */
  readonly storeCpuUsPerRequest: number;
  readonly non2xx: number;
  readonly errors: number;
}

export interface WorkerStoreFigures {
  readonly store: StoreName;
  readonly label: string;
  /** The key's first decision, allowed (`{ __typename }` answered 200). */
  readonly first: LatencyFigures;
  /** A 429 decided by the store (the key's second request; a warm object). */
  readonly storeLimited: LatencyFigures;
  /** A 429 from the isolate's memory of blocks (no store call), or the MemoryStore's block. */
  readonly cachedBlock: LatencyFigures;
  /** `{ __typename }`, every request a decision, limits never reached. */
  readonly decisions: RateFigures;
  /** The demo query. */
  readonly demo: RateFigures;
  /** Decision labels in the Worker's request log during the latency part. */
  readonly labels: Readonly<Record<string, number>>;
  /** Warnings and errors the Worker logged (fail-opens among them): 0 in a sound run. */
  readonly warnings: number;
}

export interface WorkerStoresResult {
  readonly settings: WorkerStoreSettings;
  readonly versions: { readonly miniflare: string; readonly redis: string };
  readonly stores: readonly WorkerStoreFigures[];
}

const labels: Record<StoreName, string> = {
  memory: 'memory (per isolate)',
  'durable-object': 'durable-object (local, SQLite-backed)',
  upstash: 'upstash (REST stand-in → redis-server)',
  redis: 'redis (TCP, a connection per request)',
};

const typenameBody = JSON.stringify({ query: '{ __typename }' });
/** The demo graph's query (the one GraphiQL opens with on the demo graph). */
export const demoQuery = '{ topProducts { name price reviews { body author { name } } } }';
const demoBody = JSON.stringify({ query: demoQuery });

/** Client addresses in 198.18.0.0/15 (benchmarking), never the same twice in a run. */
let nextAddress = 1;
function freshAddress(): string {
  const n = nextAddress++;
  if (n >= 1 << 17) throw new Error('out of client addresses');
  return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

/** workerd processes that are children of this process. */
function workerdChildren(): Set<number> {
  const found = new Set<number>();
  for (const pid of processTree(process.pid).slice(1)) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'workerd') found.add(pid);
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** Child processes of this one whose command line mentions `needle`. */
function childrenRunning(needle: string): number[] {
  return processTree(process.pid)
    .slice(1)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
      } catch {
        return false;
      }
    });
}

/** One POST to the Worker, timed from sending to the last byte of the answer. */
function timedPost(url: string, body: string, clientIp: string, agent: Agent): Promise<{ status: number; ms: number; text: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': Buffer.byteLength(body),
          'cf-connecting-ip': clientIp,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () =>
          resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, text: Buffer.concat(chunks).toString() }),
        );
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

interface Running {
  readonly store: StoreName;
  readonly url: string;
  readonly worker: { dispose(): Promise<void>; readonly logs: Record<string, unknown>[] };
  /** workerd's process tree. */
  readonly pids: number[];
  /** The store's own processes. */
  readonly storePids: number[];
}

function latencyFigures(perRound: readonly (readonly number[])[]): LatencyFigures {
  const all = perRound.flat();
  return {
    samples: all.length,
    p50: quantile(all, 0.5),
    p99: quantile(all, 0.99),
    roundP50: perRound.map((xs) => quantile(xs, 0.5)),
    roundP99: perRound.map((xs) => quantile(xs, 0.99)),
  };
}

function rateFigures(windows: readonly Window[]): RateFigures {
  const rates = windows.map((w) => ((w.latencies.length + w.non2xx) / w.ms) * 1000);
  const completed = windows.reduce((sum, w) => sum + w.latencies.length + w.non2xx, 0);
  const latencies = windows.flatMap((w) => w.latencies);
  return {
    rounds: rates,
    median: quantile(rates, 0.5),
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    workerdCpuMsPerRequest: windows.reduce((sum, w) => sum + w.gatewayCpuMs, 0) / completed,
    storeCpuUsPerRequest: (windows.reduce((sum, w) => sum + w.subgraphCpuMs, 0) / completed) * 1000,
    non2xx: windows.reduce((sum, w) => sum + w.non2xx, 0),
    errors: windows.reduce((sum, w) => sum + w.errors, 0),
  };
}

const rotated = <T>(list: readonly T[], i: number): T[] => [...list.slice(i % list.length), ...list.slice(0, i % list.length)];

export async function measureWorkerStores(
  settings: WorkerStoreSettings,
  log: (message: string) => void = () => {},
): Promise<WorkerStoresResult> {
  const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
  buildForBench(root, { worker: true, log });
  const { startWorker } = await import('../test/support/worker.js');
  const { startRedisServer } = await import('../test/support/redis-server.js');
  const { startUpstashRestProcess } = await import('../test/support/upstash-rest-process.js');

  const [tcpRedis, restRedis] = await Promise.all([startRedisServer(), startRedisServer()]);
  const running: Running[] = [];
  let rest: Awaited<ReturnType<typeof startUpstashRestProcess>> | undefined;
  try {
    rest = await startUpstashRestProcess({ redisUrl: restRedis.url });
    const restPids = [...childrenRunning('upstash-rest-process'), ...(restRedis.pid ? [restRedis.pid] : [])];
    const storeEnv: Record<StoreName, Record<string, string>> = {
      memory: { RATE_LIMIT_STORE: 'memory' },
      'durable-object': { RATE_LIMIT_STORE: 'durable-object' },
      upstash: { RATE_LIMIT_STORE: 'upstash', UPSTASH_REDIS_REST_URL: rest.url, UPSTASH_REDIS_REST_TOKEN: rest.token },
      redis: { RATE_LIMIT_STORE: 'redis', REDIS_URL: tcpRedis.url },
    };
    const storePids: Record<StoreName, number[]> = {
      memory: [],
      'durable-object': [],
      upstash: restPids,
      redis: tcpRedis.pid ? [tcpRedis.pid] : [],
    };

    /** The four Workers with `env`, started one after another (so each workerd is told apart). */
    const startAll = async (env: Record<string, string>, prefix: string): Promise<void> => {
      for (const store of storeNames) {
        const before = workerdChildren();
        const worker = await startWorker(
          { ...env, ...storeEnv[store], REDIS_KEY_PREFIX: `${prefix}:` },
          store === 'durable-object' ? { durableObjects: { RATE_LIMITER: { className: 'RateLimiterObject', useSQLite: true } } } : {},
        );
        const url = new URL('/graphql', String(await worker.mf.ready)).href;
        const added = [...workerdChildren()].filter((pid) => !before.has(pid));
        if (added.length !== 1) log(`workers-stores: ${added.length} new workerd processes for ${store}; its CPU is not measured`);
        running.push({ store, url, worker, pids: added.length === 1 ? processTree(added[0]!) : [], storePids: storePids[store] });
      }
    };
    const stopAll = async () => {
      await Promise.all(running.map((r) => r.worker.dispose()));
      running.length = 0;
    };
    const warnings = new Map<StoreName, number>();
    const countWarnings = () => {
      for (const r of running) {
        const n = r.worker.logs.filter((l) => l['level'] === 'warn' || l['level'] === 'error').length;
        warnings.set(r.store, (warnings.get(r.store) ?? 0) + n);
        if (n > 0)
          log(
            `workers-stores: ${r.store} logged ${n} warnings, e.g. ${JSON.stringify(r.worker.logs.find((l) => l['level'] === 'warn' || l['level'] === 'error'))}`,
          );
      }
    };

    // ---- 1. decision latency: one request in flight, limit 1 per client ----
    const limits = { RATE_LIMIT_TIMEOUT_MS: '5000', RATE_LIMIT_WINDOW_SECONDS: '60', RATE_LIMIT_PENALTY_SECONDS: '60' };
    await startAll({ ...limits, LOG_LEVEL: 'info', RATE_LIMIT_MAX_REQUESTS: '1' }, 'tollgate-bench-latency');
    const first = new Map<StoreName, number[][]>(storeNames.map((s) => [s, []]));
    const limited = new Map<StoreName, number[][]>(storeNames.map((s) => [s, []]));
    const cached = new Map<StoreName, number[][]>(storeNames.map((s) => [s, []]));
    const decisionLabels = new Map<StoreName, Record<string, number>>();
    try {
      const agents = new Map(running.map((r) => [r, new Agent({ keepAlive: true, maxSockets: 1 })]));
      const triple = async (r: Running) => {
        const agent = agents.get(r)!;
        const ip = freshAddress();
        const a = await timedPost(r.url, typenameBody, ip, agent);
        const b = await timedPost(r.url, typenameBody, ip, agent);
        const c = await timedPost(r.url, typenameBody, ip, agent);
        if (a.status !== 200 || b.status !== 429 || c.status !== 429) {
          throw new Error(
            `${r.store}: expected 200, 429, 429; got ${a.status}, ${b.status}, ${c.status}: ${a.text.slice(0, 200)} ${b.text.slice(0, 200)}`,
          );
        }
        return [a.ms, b.ms, c.ms] as const;
      };
      // Warm-up, not counted: the isolate built, its code optimised, each store's path taken.
      for (const r of running) for (let i = 0; i < Math.min(50, settings.keys); i++) await triple(r);
      const warmLogs = new Map(running.map((r) => [r, r.worker.logs.length]));
      for (let i = 0; i < settings.rounds; i++) {
        for (const r of rotated(running, i)) {
          const xs: number[] = [];
          const ys: number[] = [];
          const zs: number[] = [];
          for (let k = 0; k < settings.keys; k++) {
            const [x, y, z] = await triple(r);
            xs.push(x);
            ys.push(y);
            zs.push(z);
          }
          first.get(r.store)!.push(xs);
          limited.get(r.store)!.push(ys);
          cached.get(r.store)!.push(zs);
        }
        log(
          `workers-stores latency round ${i + 1}: ` +
            storeNames
              .map(
                (s) =>
                  `${s} 429 p50 ${quantile(limited.get(s)!.at(-1)!, 0.5).toFixed(2)} ms (first ${quantile(first.get(s)!.at(-1)!, 0.5).toFixed(2)})`,
              )
              .join('; '),
        );
      }
      // Every measured decision's label, from the Worker's request log (written after the answer: wait for the last).
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (const r of running) {
        const counts: Record<string, number> = {};
        for (const line of r.worker.logs.slice(warmLogs.get(r)!)) {
          if (line['msg'] !== 'request') continue;
          const label = String(line['rateLimitDecision'] ?? line['rateLimit'] ?? 'none');
          counts[label] = (counts[label] ?? 0) + 1;
        }
        decisionLabels.set(r.store, counts);
        const n = settings.rounds * settings.keys;
        const expected: Record<string, number> =
          r.store === 'memory' ? { allowed: n, limited: n, blocked: n } : { allowed: n, limited: n, blocked_local_cache: n };
        log(`workers-stores ${r.store}: decisions ${JSON.stringify(counts)}`);
        if (JSON.stringify(Object.entries(counts).sort()) !== JSON.stringify(Object.entries(expected).sort())) {
          throw new Error(`${r.store}: decisions ${JSON.stringify(counts)}, expected ${JSON.stringify(expected)}`);
        }
      }
      // The shared stores were the ones deciding: keys in the TCP redis-server (the older ones have
      // expired with their window), requests at the REST stand-in (below).
      const admin = new Redis(tcpRedis.url);
      const keys = await admin.dbsize();
      admin.disconnect();
      if (keys === 0) throw new Error('the TCP redis-server holds no key: redis did not decide');
      for (const agent of agents.values()) agent.destroy();
      countWarnings();
    } finally {
      await stopAll();
    }
    const restRequests = (await rest.requests())['/'] ?? 0;
    if (restRequests < settings.rounds * settings.keys * 2)
      throw new Error(`the REST stand-in saw ${restRequests} requests: upstash did not decide`);

    // ---- 2. decisions/s and requests/s: limits never reached ----
    await startAll({ ...limits, LOG_LEVEL: 'warn', RATE_LIMIT_MAX_REQUESTS: '1000000000' }, 'tollgate-bench-load');
    const decisionWindows = new Map<StoreName, Window[]>(storeNames.map((s) => [s, []]));
    const demoWindows = new Map<StoreName, Window[]>(storeNames.map((s) => [s, []]));
    try {
      const pools = new Map(running.map((r) => [r, Array.from({ length: settings.pool }, freshAddress)]));
      const headersFor = (r: Running) => {
        const pool = pools.get(r)!;
        let i = 0;
        return () => ({ 'cf-connecting-ip': pool[i++ % pool.length]! });
      };
      for (const r of running) {
        const check = await timedPost(r.url, demoBody, pools.get(r)![0]!, new Agent());
        if (check.status !== 200 || !check.text.includes('"topProducts":[{'))
          throw new Error(`${r.store}: the demo query answered ${check.status}: ${check.text.slice(0, 300)}`);
        // Every key of the pool decided once (a Durable Object per key, created), then loaded.
        const agent = new Agent({ keepAlive: true, maxSockets: settings.connections });
        const pool = pools.get(r)!;
        for (let i = 0; i < pool.length; i += settings.connections) {
          await Promise.all(pool.slice(i, i + settings.connections).map((ip) => timedPost(r.url, typenameBody, ip, agent)));
        }
        agent.destroy();
        await load(r.url, settings.connections, settings.warmupSeconds, headersFor(r), typenameBody);
        await load(r.url, settings.connections, settings.warmupSeconds, headersFor(r), demoBody);
      }
      for (const [workload, body, windows] of [
        ['decisions', typenameBody, decisionWindows],
        ['demo query', demoBody, demoWindows],
      ] as const) {
        for (let i = 0; i < settings.rounds; i++) {
          for (const r of rotated(running, i)) {
            const w = await round(r.url, settings.connections, r.pids, r.storePids, {
              rampSeconds: settings.rampSeconds,
              windowSeconds: settings.windowSeconds,
              requestHeaders: headersFor(r),
              body,
            });
            windows.get(r.store)!.push(w);
          }
          log(
            `workers-stores ${workload} round ${i + 1}: ` +
              storeNames
                .map((s) => {
                  const w = windows.get(s)!.at(-1)!;
                  return `${s} ${(((w.latencies.length + w.non2xx) / w.ms) * 1000).toFixed(0)}/s${w.non2xx + w.errors > 0 ? ` (non-2xx ${w.non2xx}, errors ${w.errors})` : ''}`;
                })
                .join('; '),
          );
        }
      }
      countWarnings();
    } finally {
      await stopAll();
    }

    const stores = storeNames.map(
      (store): WorkerStoreFigures => ({
        store,
        label: labels[store],
        first: latencyFigures(first.get(store)!),
        storeLimited: latencyFigures(limited.get(store)!),
        cachedBlock: latencyFigures(cached.get(store)!),
        decisions: rateFigures(decisionWindows.get(store)!),
        demo: rateFigures(demoWindows.get(store)!),
        labels: decisionLabels.get(store) ?? {},
        warnings: warnings.get(store) ?? 0,
      }),
    );
    return { settings, versions: { miniflare: version('miniflare'), redis: redisVersion() }, stores };
  } finally {
    await Promise.all(running.map((r) => r.worker.dispose()));
    await rest?.close();
    await Promise.all([tcpRedis.stop(), restRedis.stop()]);
  }
}

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'n/a';
  }
}

function redisVersion(): string {
  try {
    return /v=(\S+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? 'n/a';
  } catch {
    return 'n/a';
  }
}

/** A line per store, for the log. */
export function describeWorkerStores(result: WorkerStoresResult): string[] {
  const f = (x: number) => x.toFixed(2);
  const span = (xs: readonly number[], d = 0) => `${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}`;
  return result.stores.map(
    (s) =>
      `${s.store.padEnd(15)} 429 by the store p50 ${f(s.storeLimited.p50)} ms (rounds ${span(s.storeLimited.roundP50, 2)}) p99 ${f(s.storeLimited.p99)}; ` +
      `first decision p50 ${f(s.first.p50)} p99 ${f(s.first.p99)}; cached block p50 ${f(s.cachedBlock.p50)}; ` +
      `decisions/s ${s.decisions.median.toFixed(0)} (${span(s.decisions.rounds)}); demo req/s ${s.demo.median.toFixed(0)} (${span(s.demo.rounds)}); ` +
      `workerd CPU ${f(s.decisions.workerdCpuMsPerRequest)} / ${f(s.demo.workerdCpuMsPerRequest)} ms/req; warnings ${s.warnings}`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const log = (message: string) => console.error(`[workers-stores ${new Date().toISOString().slice(11, 19)}] ${message}`);
  const loadBefore = loadavg();
  const result = await measureWorkerStores(defaultWorkerStoreSettings(), log);
  for (const line of describeWorkerStores(result)) console.log(line);
  console.log(
    `load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}
