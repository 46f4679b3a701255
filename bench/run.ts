/**
 * `npm run bench`: Tollgate side by side with the bare runtime, Hive Gateway's CLI and Apollo
 * Gateway on the deep benchmark query, all measured in one run; writes BENCHMARKS.md, its chart
 * and the raw results (bench/results/).
 *
 * Steps: build (tsc, the bench entries, the Worker bundle when stale) → start the four subgraphs
 * (one child process) → start every gateway (own child process, free loopback port), measuring
 * its cold start → check they all answer the same data → for 1, 10, 50 connections, each gateway
 * in turn: warm-up, then autocannon, every request with a unique header value → cold start in
 * Miniflare → the Worker bundle's size → the report.
 *
 * Settings (environment): BENCH_ROUNDS (default 6) × BENCH_WINDOW (s, default 2) measured per
 * point after BENCH_RAMP (s, default 0.5) per round and BENCH_WARMUP (s, default 1.5) per point,
 * BENCH_CONNECTIONS (default 1,10,50), BENCH_COLD_RUNS (default 3), BENCH_ONLY (contender ids,
 * comma-separated), BENCH_PROFILE (contender ids to profile, or none), BENCH_UPSTREAM_DEDUPE=1 (leave
 * the runtime's upstream deduplication on for every Hive-runtime gateway), REDIS_URL (default redis://127.0.0.1:6379), SUBGRAPH_MEMO=0 (no subgraph memo),
 * BENCH_PAIRS (paired A/B rounds per start of a paired comparison, default 4; 0: none), BENCH_PAIR_STARTS (fresh starts per paired comparison, default 4), BENCH_PAIR_WARMUP (s, default 8), BENCH_FIRST_WARMUP (s per gateway before the first point, default 8), BENCH_WORKER_WINDOW (s, the Worker pair's windows, default 2), BENCH_WORKER_PROFILE_SECONDS (each Worker side's profile, default 15; 0: none), BENCH_SKIP_BUILD=1, BENCH_KEEP_PROFILES (a directory: keep each profile as <id>.cpuprofile).
 *
 * Sections (BENCH_SECTIONS, comma-separated; default all): `gateways` (everything above), then
 * identity and rate-limit policies: `jwt` (CPU per JWT verification with a cached key, bench/jwt.ts),
 * `policies` (CPU per decision, one policy against three, bench/policies.ts), `identity` (Tollgate
 * with RATE_LIMIT_IDENTITY=jwt,ip and three policies against the default policy, paired, Rust
 * planner, every request with a valid bearer token: BENCH_IDENTITY_PAIRS per start, default 6,
 * over BENCH_PAIR_STARTS starts, BENCH_IDENTITY_USERS tokens, default 300), `ratelimit`
 * (decisions/s per algorithm against Redis beside rate-limiter-flexible, bench/ratelimit.ts:
 * BENCH_RL_ROUNDS, default 5), `workers-stores` (the built Worker bundle in workerd with each
 * rate-limit store, memory, durable-object, upstash through a REST stand-in, TCP redis: decision
 * latency seen by the client, decisions/s and the demo query's requests/s, bench/workers-stores.ts:
 * BENCH_WS_* settings there), `cost` (CPU per pricing of the deep query, uncached and cached,
 * bench/cost.ts: BENCH_COST_ROUNDS, BENCH_COST_CALLS; and Tollgate with a cost policy against
 * Tollgate without, paired, Rust planner, in-memory store: BENCH_COST_PAIRS per start, default 6,
 * over BENCH_PAIR_STARTS starts). Without `gateways`, the figures of the last full run
 * (bench/results/latest.json) are kept and only the named sections are measured again, e.g.
 * `BENCH_SECTIONS=jwt,policies npm run bench` (each of these sections takes a few minutes at most).
 * BENCH_SUPERGRAPH_SWAP=1 adds the supergraph swap section (bench/supergraph-swap.ts; about 1 minute
 * more), with SWAP_SECONDS (s of load each, default 5) and SWAP_CONNECTIONS (default 10).
 *
 * `npm run bench -- --only worker` measures only Tollgate's Worker against the bare Worker
 * (bench/worker.ts, a few minutes) and rewrites only that section of BENCHMARKS.md, with the raw
 * figures in bench/results/worker.json. The full run measures that pair too.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildForBench } from './build.js';
import { assertCostPolicyApplied, defaultPricingSettings, measurePricing } from './cost.js';
import { bundleSize } from './bundle.js';
import { load, round, summarize, type PointResult, type RequestHeaders, type Window } from './measure.js';
import { measureFreshPairs, type PairedResult } from './paired.js';
import { profileContender, type ProfileSummary } from './profile.js';
import { startSubgraphs } from './subgraphProcess.js';
import { measureSupergraphSwap } from './supergraph-swap.js';
import { contenders, peakRssMiB, post, processTree, start, type BenchContext, type Running } from './gateways/contenders.js';
import { defaultJwtSettings, measureJwt } from './jwt.js';
import { defaultPolicySettings, measurePolicies } from './policies.js';
import { defaultRateLimitSettings, measureRateLimit } from './ratelimit.js';
import { defaultWorkerStoreSettings, describeWorkerStores, measureWorkerStores } from './workers-stores.js';
import { bearerHeaders, userTokens } from './workload/identity.js';
import { writeReport, type ContenderResult, type IdentityAndPolicies, type Results, type WorkerPairResults } from './report.js';
import { writeSection } from './sections.js';
import { buildBareWorker, demoQueryBody, startDemoSubgraphProcess, workerSection, workerSide, wranglerSettings } from './worker.js';
import { profileWorker } from './workerProfile.js';
import { deepQueryBody } from './workload/query.js';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const env = process.env;
const settings = {
  rounds: Number(env['BENCH_ROUNDS'] ?? 6),
  windowSeconds: Number(env['BENCH_WINDOW'] ?? 2),
  rampSeconds: Number(env['BENCH_RAMP'] ?? 0.5),
  warmupSeconds: Number(env['BENCH_WARMUP'] ?? 1.5),
  connections: (env['BENCH_CONNECTIONS'] ?? '1,10,50').split(',').map(Number),
  coldRuns: Number(env['BENCH_COLD_RUNS'] ?? 3),
  rateLimitMax: 1_000_000_000,
  subgraphMemo: env['SUBGRAPH_MEMO'] !== '0',
  /** BENCH_UPSTREAM_DEDUPE=1: the Hive runtime's default (identical in-flight subgraph requests merged) for all. */
  upstreamDedupe: env['BENCH_UPSTREAM_DEDUPE'] === '1',
  clusterWorkers: availableParallelism(),
  profileConnections: 10,
  profileSeconds: Number(env['BENCH_PROFILE_SECONDS'] ?? 6),
  /** Paired A/B rounds per start of a paired comparison (bench/paired.ts); 0 skips them. */
  pairs: Number(env['BENCH_PAIRS'] ?? 4),
  /** Fresh starts of both processes per paired comparison. */
  pairStarts: Number(env['BENCH_PAIR_STARTS'] ?? 4),
  /** Both processes of a paired start loaded at once before the pairs (bench/paired.ts). */
  pairWarmupSeconds: Number(env['BENCH_PAIR_WARMUP'] ?? 8),
  /** Each gateway's first warm-up, at 10 connections, before the first point: to its steady speed. */
  firstWarmupSeconds: Number(env['BENCH_FIRST_WARMUP'] ?? 8),
  pairConnections: 10,
  /** BENCH_SUPERGRAPH_SWAP=1: the supergraph swap section (opt-in). */
  supergraphSwap: env['BENCH_SUPERGRAPH_SWAP'] === '1',
  swapSeconds: Number(env['SWAP_SECONDS'] ?? 5),
  swapConnections: Number(env['SWAP_CONNECTIONS'] ?? 10),
  /** The Worker pair's windows (s): longer than the Node pairs', as /proc counts workerd's CPU in 10 ms ticks. */
  workerWindowSeconds: Number(env['BENCH_WORKER_WINDOW'] ?? 2),
};
/** `--only worker`: the Worker pair alone. */
const onlyPart = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const profileIds = (env['BENCH_PROFILE'] ?? 'bare,tollgate-memory,bare-rust,tollgate-rust')
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s !== '' && s !== 'none');
/** Cold starts per contender id, ms. */
const coldStarts = new Map<string, number[]>();
/**
 * The comparisons the targets take their verdict from, measured paired: Tollgate against the bare
 * runtime with the same planner (the overhead targets), then against Hive Gateway's CLI and Apollo
 * Gateway, as shipped and with the same planner.
 */
const pairedComparisons: readonly (readonly [string, string])[] = [
  ['tollgate-memory', 'bare'],
  ['tollgate-redis', 'bare'],
  ['tollgate-rust', 'bare-rust'],
  ['tollgate-rust-redis', 'bare-rust'],
  ['tollgate-rust', 'hive'],
  ['tollgate-memory', 'hive'],
  ['tollgate-rust', 'hive-rust'],
  ['tollgate-rust', 'apollo'],
  ['tollgate-memory', 'apollo'],
];
const only = env['BENCH_ONLY']?.split(',').map((s) => s.trim());
const sectionNames = ['gateways', 'jwt', 'policies', 'identity', 'ratelimit', 'workers-stores', 'cost'] as const;
type Section = (typeof sectionNames)[number];
const sections = new Set(
  (env['BENCH_SECTIONS'] ?? sectionNames.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
for (const name of sections) {
  if (!(sectionNames as readonly string[]).includes(name))
    throw new Error(`BENCH_SECTIONS: unknown section ${name}; one of ${sectionNames.join(', ')}`);
}
const wants = (section: Section) => sections.has(section);
const log = (message: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);

/** Bundle load to first answer in workerd (Miniflare), as the Worker tests load it. */
async function workerColdStart(supergraphSdl: string): Promise<{ readyMs: number[]; answerMs: number[] }> {
  const { serveText, startWorker } = await import('../test/support/worker.js');
  const served = await serveText(supergraphSdl);
  const readyMs: number[] = [];
  const answerMs: number[] = [];
  try {
    for (let i = 0; i < settings.coldRuns; i++) {
      const t0 = performance.now();
      const worker = await startWorker({
        SUPERGRAPH: served.url,
        LOG_LEVEL: 'warn',
        RATE_LIMIT_MAX_REQUESTS: String(settings.rateLimitMax),
      });
      readyMs.push(performance.now() - t0);
      try {
        for (;;) {
          const response = await worker.fetch('/graphql', {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'application/json' },
            body: deepQueryBody,
          });
          const text = await response.text();
          if (response.status === 200 && text.includes('"data":{')) break;
          if (performance.now() - t0 > 60_000) throw new Error(`Worker did not answer: ${response.status} ${text.slice(0, 300)}`);
        }
        answerMs.push(performance.now() - t0);
      } finally {
        await worker.dispose();
      }
    }
  } finally {
    await served.close();
  }
  return { readyMs, answerMs };
}

/** Tollgate's Worker against the bare Worker, paired (bench/worker.ts), on the demo subgraphs in their own process. */
async function measureWorkerPair(): Promise<WorkerPairResults> {
  const { serveText } = await import('../test/support/worker.js');
  const loadBefore = loadavg();
  const subgraphs = await startDemoSubgraphProcess(root);
  const { supergraphSdl } = subgraphs;
  const served = await serveText(supergraphSdl);
  const pairSettings = {
    starts: settings.pairStarts,
    warmupSeconds: settings.pairWarmupSeconds,
    pairs: settings.pairs,
    connections: settings.pairConnections,
    rampSeconds: settings.rampSeconds,
    windowSeconds: settings.workerWindowSeconds,
  };
  try {
    const options = { root, supergraphUrl: served.url, supergraphSdl, rateLimitMax: settings.rateLimitMax };
    const result = await measureFreshPairs(
      workerSide('worker', options),
      workerSide('bare-worker', options),
      subgraphs.child.pid!,
      pairSettings,
      demoQueryBody,
      (one, i) => log(`worker / bare-worker start ${i + 1}: median ${one.median.toFixed(3)}, CPU/request ${one.cpuMedian.toFixed(3)}`),
    );
    log(
      `paired worker / bare-worker c=${settings.pairConnections}, ${result.pairs} pairs over ${settings.pairStarts} starts: median ${result.median.toFixed(3)} (IQR ${result.q1.toFixed(3)}–${result.q3.toFixed(3)}), CPU/request ${result.cpuMedian.toFixed(3)}`,
    );
    // Each side profiled alone, for where the difference goes.
    const profileSeconds = Number(env['BENCH_WORKER_PROFILE_SECONDS'] ?? 15);
    const supergraph = { url: served.url, sdl: supergraphSdl };
    const profiles =
      profileSeconds > 0
        ? {
            tollgate: await profileWorker('worker', profileSeconds, root, supergraph),
            bare: await profileWorker('bare-worker', profileSeconds, root, supergraph),
          }
        : undefined;
    const load = { before: loadBefore, after: loadavg() };
    return { result, settings: pairSettings, vars: wranglerSettings(root).vars, ...(profiles ? { profiles } : {}), load };
  } finally {
    await served.close();
    subgraphs.close();
  }
}

/** `--only worker`: builds, measures the Worker pair, rewrites its section of BENCHMARKS.md. */
async function workerOnly(): Promise<void> {
  buildForBench(root, { worker: true, log });
  if (env['BENCH_SKIP_BUILD'] !== '1') buildBareWorker(root);
  const worker = await measureWorkerPair();
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(
    join(root, 'bench/results/worker.json'),
    `${JSON.stringify({ date: new Date().toISOString(), loadavg: loadavg(), ...worker }, null, 2)}\n`,
  );
  writeSection(
    join(root, 'BENCHMARKS.md'),
    '## Worker against the bare Worker',
    workerSection(worker.result, worker.settings, worker.vars, worker.profiles, worker.load),
    '## Results',
  );
  log('done: the Worker section of BENCHMARKS.md, bench/results/worker.json');
}

function versionOf(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'n/a';
  }
}

/** The gateways side by side: everything but the identity and rate-limit sections. */
async function gatewaySuite(): Promise<Results> {
  const started = performance.now();
  const loadBefore = loadavg();
  buildForBench(root, { worker: true, log });
  if (env['BENCH_SKIP_BUILD'] !== '1') buildBareWorker(root);

  const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const runDir = mkdtempSync(join(tmpdir(), 'tollgate-bench-'));
  const plainSupergraphPath = join(runDir, 'supergraph.graphql');
  const noDedupePath = join(runDir, 'supergraph.no-dedupe.graphql');
  const subgraphs = await startSubgraphs(root, plainSupergraphPath, noDedupePath, settings.subgraphMemo);
  const supergraphSdl = readFileSync(plainSupergraphPath, 'utf8');
  const ctx: BenchContext = {
    root,
    supergraphPath: settings.upstreamDedupe ? plainSupergraphPath : noDedupePath,
    plainSupergraphPath,
    runDir,
    redisUrl: env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    redisKeyPrefix: `tollgate-bench:${runId}:`,
    rateLimitMax: settings.rateLimitMax,
    clusterWorkers: settings.clusterWorkers,
  };
  const selected = contenders.filter((c) => (only ? only.includes(c.id) : !c.optional));
  const running: Running[] = [];
  const infos: ContenderResult[] = [];
  const points: PointResult[] = [];
  const profiles: ProfileSummary[] = [];
  const paired: PairedResult[] = [];
  let workerPair: WorkerPairResults | undefined;
  let workerStart: Results['workerColdStart'];
  try {
    // Cold starts: spawn → first answered deep query; the last start stays up for the load.
    for (const contender of selected) {
      const cold: number[] = [];
      let last: Running | undefined;
      for (let i = 0; i < settings.coldRuns; i++) {
        last = await start(contender, ctx, deepQueryBody);
        cold.push(last.coldStartMs);
        if (i < settings.coldRuns - 1) await last.stop();
      }
      running.push(last!);
      coldStarts.set(contender.id, cold);
      log(`${contender.id}: cold start ${cold.map((ms) => ms.toFixed(0)).join(', ')} ms`);
    }

    // Same answer everywhere, and how many subgraph calls it takes.
    const reference = running.find((r) => r.contender.id === 'bare') ?? running[0]!;
    const referenceData = JSON.stringify((JSON.parse(reference.firstAnswer) as { data: unknown }).data);
    for (const r of running) {
      await subgraphs.counts(true);
      const { status, text } = await post(r.url, deepQueryBody, { 'x-bench-request': 'verify' });
      const calls = await subgraphs.counts();
      const parsed = JSON.parse(text) as { data?: unknown; errors?: unknown };
      const dataIdentical = status === 200 && parsed.errors === undefined && JSON.stringify(parsed.data) === referenceData;
      if (!dataIdentical) throw new Error(`${r.contender.id} answered different data (${status}): ${text.slice(0, 500)}`);
      infos.push({
        id: r.contender.id,
        label: r.contender.label,
        coldStartMs: [],
        subgraphCalls: calls,
        answerBytes: Buffer.byteLength(text),
        dataIdentical,
        bodyIdenticalToReference: text === reference.firstAnswer,
        peakRssMiB: 0,
      });
    }
    log(`all ${running.length} gateways answer the same data (${Buffer.byteLength(reference.firstAnswer)} bytes)`);

    // V8 optimises a gateway's hot code over its first thousands of requests: every gateway is
    // brought to its steady speed before anything is measured (cold start has its own figures).
    for (const r of running) await load(r.url, 10, settings.firstWarmupSeconds);

    // The load, per connection count: every gateway warmed up, then rounds in which the gateways
    // take turns (the order rotated each round), so drifts in the machine's load hit all alike.
    for (const connections of settings.connections) {
      for (const r of running) await load(r.url, connections, settings.warmupSeconds);
      const windows = new Map<Running, Window[]>(running.map((r) => [r, []]));
      for (let i = 0; i < settings.rounds; i++) {
        const shift = i % running.length;
        for (const r of [...running.slice(shift), ...running.slice(0, shift)]) {
          windows
            .get(r)!
            .push(
              await round(r.url, connections, processTree(r.pid), subgraphs.child.pid!, settings, async () =>
                Object.values(await subgraphs.counts()).reduce((a, b) => a + b, 0),
              ),
            );
        }
      }
      for (const r of running) {
        const info = infos.find((x) => x.id === r.contender.id)!;
        const point = summarize(r, connections, windows.get(r)!, info.answerBytes);
        points.push(point);
        log(
          `${r.contender.id.padEnd(18)} c=${String(connections).padStart(2)}  ${point.rps.toFixed(0).padStart(5)} req/s ` +
            `(rounds ${point.roundRps.map((x) => x.toFixed(0)).join(' ')})  p50 ${point.p50.toFixed(1)} ms  p99 ${point.p99.toFixed(1)} ms  ` +
            `err ${point.errors}  non2xx ${point.non2xx}  rss ${point.peakRssMiB.toFixed(0)} MiB  cpu ${point.gatewayCpuMsPerRequest.toFixed(2)} ms/req  ` +
            `subgraph calls ${point.subgraphCallsPerRequest.toFixed(1)}/req`,
        );
      }
    }
    for (const r of running) {
      const info = infos.find((i) => i.id === r.contender.id)!;
      info.peakRssMiB = peakRssMiB(processTree(r.pid));
      const { status, text } = await post(r.url, deepQueryBody);
      if (status !== 200 || JSON.stringify((JSON.parse(text) as { data: unknown }).data) !== referenceData) {
        throw new Error(`${r.contender.id} answered differently after the load (${status})`);
      }
    }
    await Promise.all(running.map((r) => r.stop()));

    // The targets' verdicts, paired: Tollgate and the other gateway in turns, over fresh starts
    // of both (bench/paired.ts says why), with only those two running.
    if (settings.pairs > 0) {
      for (const [a, b] of pairedComparisons) {
        const ca = selected.find((c) => c.id === a);
        const cb = selected.find((c) => c.id === b);
        if (!ca || !cb) continue;
        const result = await measureFreshPairs(
          { contender: ca, ctx },
          { contender: cb, ctx },
          subgraphs.child.pid!,
          {
            starts: settings.pairStarts,
            warmupSeconds: settings.pairWarmupSeconds,
            pairs: settings.pairs,
            connections: settings.pairConnections,
            rampSeconds: settings.rampSeconds,
            windowSeconds: 1,
          },
          deepQueryBody,
        );
        paired.push(result);
        log(
          `paired ${a} / ${b} c=${settings.pairConnections}, ${result.pairs} pairs over ${settings.pairStarts} starts: median ${result.median.toFixed(3)} (IQR ${result.q1.toFixed(3)}–${result.q3.toFixed(3)}), CPU/request ${result.cpuMedian.toFixed(3)}`,
        );
      }
    }

    // Tollgate's Worker against the bare Worker, in workerd, paired the same way.
    if (settings.pairs > 0 && (!only || only.includes('worker'))) {
      workerPair = await measureWorkerPair();
    }

    // Where the time goes: CPU profiles of a few gateways, one at a time, under the same load.
    for (const id of profileIds) {
      const contender = selected.find((c) => c.id === id);
      if (!contender) continue;
      log(`profiling ${id} (node --cpu-prof, ${settings.profileConnections} connections, ${settings.profileSeconds} s)`);
      profiles.push(
        await profileContender(contender, ctx, deepQueryBody, {
          connections: settings.profileConnections,
          seconds: settings.profileSeconds,
          warmupSeconds: settings.warmupSeconds,
        }),
      );
    }
  } finally {
    await Promise.all(running.map((r) => r.stop()));
    subgraphs.close();
  }
  // Cold starts were collected per contender above; attach them.
  for (const info of infos) info.coldStartMs = coldStarts.get(info.id) ?? [];

  log('cold start in Miniflare');
  try {
    workerStart = await workerColdStart(supergraphSdl);
  } catch (error) {
    log(`Miniflare cold start failed: ${String(error)}`);
    workerStart = undefined;
  }
  rmSync(runDir, { recursive: true, force: true });

  let supergraphSwap: Results['supergraphSwap'];
  if (settings.supergraphSwap) {
    log(
      `supergraph swap: ${settings.swapSeconds} s steady and ${settings.swapSeconds} s with a swap every second, ${settings.swapConnections} connections`,
    );
    supergraphSwap = await measureSupergraphSwap({ seconds: settings.swapSeconds, connections: settings.swapConnections });
    const { steady, swapping, timeToNewGraphMs, afterOne, afterMany } = supergraphSwap;
    log(
      `supergraph swap: ${steady.rps.toFixed(0)} → ${swapping.rps.toFixed(0)} req/s, p99 ${steady.p99} → ${swapping.p99} ms, non-2xx ${swapping.non2xx}, ` +
        `errors ${swapping.errors}; new graph after ${timeToNewGraphMs.median} ms (max ${timeToNewGraphMs.max}); ` +
        `RSS ${afterOne.rssMiB.toFixed(0)} → ${afterMany.rssMiB.toFixed(0)} MiB, heap ${afterOne.heapMiB.toFixed(1)} → ${afterMany.heapMiB.toFixed(1)} MiB after ${afterMany.swaps} swaps`,
    );
  }

  const results: Results = {
    date: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: availableParallelism(),
      memoryGiB: totalmem() / 1024 ** 3,
      kernel: release(),
      node: process.version,
      loadBefore,
      loadAfter: loadavg(),
    },
    versions: Object.fromEntries(
      [
        '@graphql-hive/gateway-runtime',
        '@graphql-hive/gateway',
        '@graphql-hive/router-runtime',
        '@graphql-hive/router-query-planner',
        '@graphql-mesh/transport-http',
        '@apollo/gateway',
        '@apollo/server',
        '@apollo/subgraph',
        'graphql',
        'graphql-yoga',
        'autocannon',
        'miniflare',
        'wrangler',
        'ioredis',
      ].map((pkg) => [pkg, versionOf(pkg)]),
    ),
    settings: { ...settings, redisKeyPrefix: ctx.redisKeyPrefix },
    contenders: infos,
    points,
    workerColdStart: workerStart,
    ...(supergraphSwap ? { supergraphSwap } : {}),
    profiles,
    paired,
    ...(workerPair ? { workerPair } : {}),
    bundle: existsSync(join(root, 'dist/worker/index.js')) ? bundleSize(join(root, 'dist/worker/index.js')) : undefined,
    totalSeconds: (performance.now() - started) / 1000,
  };
  return results;
}

/**
 * Two contenders paired on the benchmark's subgraphs (fresh starts, bench/paired.ts), with the
 * deep query: `probe` first sees one answer of a fresh `a`, and throws when `a` is not
 * configured as the comparison means it to be.
 */
async function pairedOnWorkload(
  aId: string,
  bId: string,
  options: {
    readonly pairs: number;
    readonly requestHeaders?: RequestHeaders;
    readonly probe: (url: string) => Promise<void>;
  },
): Promise<PairedResult> {
  buildForBench(root, { worker: false, log });
  const runDir = mkdtempSync(join(tmpdir(), 'tollgate-bench-'));
  const plainSupergraphPath = join(runDir, 'supergraph.graphql');
  const noDedupePath = join(runDir, 'supergraph.no-dedupe.graphql');
  const subgraphs = await startSubgraphs(root, plainSupergraphPath, noDedupePath, settings.subgraphMemo);
  try {
    const ctx: BenchContext = {
      root,
      supergraphPath: settings.upstreamDedupe ? plainSupergraphPath : noDedupePath,
      plainSupergraphPath,
      runDir,
      redisUrl: env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
      redisKeyPrefix: `tollgate-bench:${Date.now().toString(36)}:`,
      rateLimitMax: settings.rateLimitMax,
      clusterWorkers: settings.clusterWorkers,
    };
    const a = contenders.find((c) => c.id === aId)!;
    const b = contenders.find((c) => c.id === bId)!;
    const probe = await start(a, ctx, deepQueryBody);
    try {
      await options.probe(probe.url);
    } finally {
      await probe.stop();
    }
    const result = await measureFreshPairs(
      { contender: a, ctx },
      { contender: b, ctx },
      subgraphs.child.pid!,
      {
        starts: settings.pairStarts,
        warmupSeconds: settings.pairWarmupSeconds,
        pairs: options.pairs,
        connections: settings.pairConnections,
        rampSeconds: settings.rampSeconds,
        windowSeconds: 1,
        ...(options.requestHeaders ? { requestHeaders: options.requestHeaders } : {}),
      },
      deepQueryBody,
      (r, i) => log(`${a.id} start ${i + 1}: median ${r.median.toFixed(3)} (pairs ${r.ratios.map((x) => x.toFixed(2)).join(' ')})`),
    );
    log(
      `paired ${a.id} / ${b.id} c=${settings.pairConnections}, ${result.pairs} pairs over ${settings.pairStarts} starts: median ${result.median.toFixed(3)} (IQR ${result.q1.toFixed(3)}–${result.q3.toFixed(3)}), CPU/request ${result.cpuMedian.toFixed(3)}`,
    );
    return result;
  } finally {
    subgraphs.close();
    rmSync(runDir, { recursive: true, force: true });
  }
}

/**
 * Tollgate verifying a bearer token on every request (HS256, a pool of users) and deciding three
 * policies in two store calls, against Tollgate with the default policy, both with the Rust
 * planner and the in-memory store, paired; both sides get the same requests, tokens included.
 */
async function identityPaired(): Promise<PairedResult> {
  const tokens = await userTokens(Number(env['BENCH_IDENTITY_USERS'] ?? 300));
  return pairedOnWorkload('tollgate-rust-identity', 'tollgate-rust', {
    pairs: Number(env['BENCH_IDENTITY_PAIRS'] ?? 6),
    requestHeaders: bearerHeaders(tokens),
    // A token is verified and its tier read (the `pro` tier's own limit in RateLimit-Policy), and
    // all three policies apply.
    probe: async (url) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${tokens[0]!}` },
        body: deepQueryBody,
      });
      await response.text();
      const policy = response.headers.get('ratelimit-policy') ?? '';
      if (response.status !== 200 || !/"ip";.*"user";q=999999999;.*"burst";/.test(policy)) {
        throw new Error(
          `identity gateway: status ${response.status}, RateLimit-Policy ${policy}: the token was not verified or a policy is missing`,
        );
      }
    },
  });
}

/**
 * Tollgate pricing every operation and spending its estimate from a bucket in cost beside the
 * default policy, against Tollgate with the default policy alone; Rust planner, in-memory store.
 */
async function costPaired(): Promise<PairedResult> {
  return pairedOnWorkload('tollgate-rust-cost', 'tollgate-rust', {
    pairs: Number(env['BENCH_COST_PAIRS'] ?? 6),
    probe: async (url) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: deepQueryBody,
      });
      await response.text();
      assertCostPolicyApplied(response.status, response.headers);
    },
  });
}

async function main(): Promise<void> {
  const latestPath = join(root, 'bench/results/latest.json');
  let results: Results;
  if (wants('gateways')) {
    results = await gatewaySuite();
  } else {
    if (!existsSync(latestPath))
      throw new Error('BENCH_SECTIONS without gateways keeps the last full run, and there is none (bench/results/latest.json)');
    results = JSON.parse(readFileSync(latestPath, 'utf8')) as Results;
    log(`keeping the gateway figures of ${results.date} (bench/results/latest.json); measuring ${[...sections].join(', ')}`);
  }
  // Each section replaces its own figures and keeps the others'.
  const measured: IdentityAndPolicies = { ...results.identityAndPolicies, runs: { ...results.identityAndPolicies?.runs } };
  const section = async (name: Section, measure: () => Promise<void>) => {
    if (!wants(name)) return;
    const date = new Date().toISOString();
    const loadBefore = loadavg();
    await measure();
    measured.runs![name] = { date, node: process.version, loadBefore, loadAfter: loadavg() };
  };
  await section('jwt', async () => void (measured.jwt = await measureJwt(defaultJwtSettings(), log)));
  await section('policies', async () => void (measured.policies = await measurePolicies(defaultPolicySettings(), log)));
  await section('identity', async () => void (measured.identity = await identityPaired()));
  await section(
    'ratelimit',
    async () =>
      void (measured.rateLimit = await measureRateLimit({ ...defaultRateLimitSettings(env, 'BENCH_RL_ROUNDS'), algorithms: [] }, log)),
  );
  await section('workers-stores', async () => {
    measured.workerStores = await measureWorkerStores(defaultWorkerStoreSettings(env), log);
    for (const line of describeWorkerStores(measured.workerStores)) log(line);
  });
  await section('cost', async () => {
    const pricing = await measurePricing(defaultPricingSettings(env), log);
    measured.cost = { pricing, paired: await costPaired() };
  });
  results = { ...results, identityAndPolicies: measured };
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(latestPath, `${JSON.stringify(results, null, 2)}\n`);
  writeReport(results, root);
  log('done: BENCHMARKS.md, bench/results/chart.svg, bench/results/latest.json');
}

(onlyPart === 'worker'
  ? workerOnly()
  : onlyPart === undefined
    ? main()
    : Promise.reject(new Error(`--only ${onlyPart}: only "worker"`))
).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
