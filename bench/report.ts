/**
 * Writes BENCHMARKS.md and bench/results/chart.svg from one run's results.
 */
import type { PointResult } from './measure.js';
import type { PairedResult } from './paired.js';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BundleSize } from './bundle.js';
import type { ProfileSummary } from './profile.js';
import { groupedBarChart } from './svg.js';
import { recordedHeading, sectionOf } from './sections.js';
import { workerSection, type WorkerProfile } from './worker.js';


export interface ContenderResult {
  readonly id: string;
  readonly label: string;
  coldStartMs: number[];
  readonly subgraphCalls: Record<string, number>;
  readonly answerBytes: number;
  readonly dataIdentical: boolean;
  readonly bodyIdenticalToReference: boolean;
  /** VmHWM at the end of the run (process tree), MiB. */
  peakRssMiB: number;
}

export interface Results {
  readonly date: string;
  readonly machine: {
    readonly cpu: string;
    readonly cores: number;
    readonly memoryGiB: number;
    readonly kernel: string;
    readonly node: string;
    readonly loadBefore: number[];
    readonly loadAfter: number[];
  };
  readonly versions: Record<string, string>;
  readonly settings: {
    readonly rounds: number;
    readonly windowSeconds: number;
    readonly rampSeconds: number;
    readonly warmupSeconds: number;
    readonly firstWarmupSeconds?: number;
    readonly pairWarmupSeconds?: number;
    readonly connections: number[];
    readonly coldRuns: number;
    readonly rateLimitMax: number;
    readonly subgraphMemo: boolean;
    readonly upstreamDedupe: boolean;
    readonly clusterWorkers: number;
    readonly redisKeyPrefix: string;
  };
  readonly contenders: ContenderResult[];
  readonly points: PointResult[];
  readonly workerColdStart: { readyMs: number[]; answerMs: number[] } | undefined;
  readonly bundle: BundleSize | undefined;
  readonly profiles?: ProfileSummary[];
  /** Paired A/B rounds for the targets' verdicts (bench/paired.ts). */
  readonly paired?: PairedResult[];
  /** Tollgate's Worker against the bare Worker (bench/worker.ts). */
  readonly workerPair?: WorkerPairResults;
  readonly totalSeconds: number;
}

/** The Worker pair, with its settings and the Tollgate Worker's configuration (wrangler.toml's vars). */
export interface WorkerPairResults {
  readonly result: PairedResult;
  readonly settings: { readonly windowSeconds: number; readonly rampSeconds: number; readonly warmupSeconds: number };
  readonly vars: Record<string, string>;
  /** Each side profiled in workerd (bench/workerProfile.ts). */
  readonly profiles?: { readonly tollgate: WorkerProfile; readonly bare: WorkerProfile };
  /** The load average before and after the pair. */
  readonly load?: { readonly before: readonly number[]; readonly after: readonly number[] };
}

/** Sections written by partial runs (`--only worker`, `bench:ab --record`) that a full run keeps when it did not measure them. */
export const keptSections = ['## Worker against the bare Worker', recordedHeading] as const;

const median = (xs: readonly number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : NaN);
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? undefined : a / b);
const fx = (r: number | undefined) => (r === undefined ? '–' : `${r.toFixed(2)}×`);
const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

export function writeReport(results: Results, root: string): void {
  const point = (id: string, connections: number) => results.points.find((p) => p.contender === id && p.connections === connections);
  const label = (id: string) => results.contenders.find((c) => c.id === id)?.label ?? id;
  const ids = results.contenders.map((c) => c.id);
  const top = Math.max(...results.settings.connections);
  const has = (id: string) => ids.includes(id);

  // ---- chart ----
  const svg = groupedBarChart({
    title: 'Tollgate vs the bare runtime, Hive Gateway and Apollo Gateway — deep federated query',
    subtitle: `${results.machine.cores} cores (${results.machine.cpu}), Node ${results.machine.node}, ${results.date.slice(0, 10)}; ${results.settings.rounds} × ${results.settings.windowSeconds} s per point`,
    series: results.settings.connections.map((c) => `${c} connection${c === 1 ? '' : 's'}`),
    panels: [
      {
        title: 'requests/s (higher is better)',
        format: (v) => v.toFixed(0),
        rows: ids.map((id) => ({ label: label(id), values: results.settings.connections.map((c) => point(id, c)?.rps) })),
      },
      {
        title: 'p99 latency, ms (lower is better)',
        format: (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(1)),
        rows: ids.map((id) => ({ label: label(id), values: results.settings.connections.map((c) => point(id, c)?.p99) })),
      },
    ],
  });
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/chart.svg'), svg);

  // ---- targets ----
  const targetRows: string[] = [];
  const target = (name: string, figure: string, met: boolean | undefined | 'stated') =>
    targetRows.push(
      `| ${name} | ${figure} | ${met === 'stated' ? 'stated' : met === undefined ? 'not measured' : met ? '**met**' : '**missed**'} |`,
    );
  const rpsRatios = (a: string, b: string) =>
    results.settings.connections.map((c) => ({ c, r: ratio(point(a, c)?.rps, point(b, c)?.rps) }));
  const figure = (rs: { c: number; r: number | undefined }[]) => rs.map(({ c, r }) => `${fx(r)} at ${c}`).join(', ');
  const allAtLeast = (rs: { r: number | undefined }[], min: number) =>
    rs.some((x) => x.r === undefined) ? undefined : rs.every((x) => x.r! >= min);
  const atTop = (rs: { c: number; r: number | undefined }[]) => rs.find((x) => x.c === top)?.r;
  // Overhead against the bare runtime with the same planner, then Tollgate as shipped on Node
  // (Rust planner) against the others as shipped and with the same planner: the verdict from the
  // paired rounds where they ran (the main table's ratios beside them; "Paired rounds" says why).
  const paired = (a: string, b: string, name: string, min: number) => {
    if (!has(a) || !has(b)) return;
    const rs = rpsRatios(a, b);
    const pair = results.paired?.find((p) => p.a === a && p.b === b);
    if (!pair) return target(name, figure(rs), allAtLeast(rs, min));
    target(
      name,
      `paired, ${pair.connections} connections: **${fx(pair.median)}** (middle half of ${pair.ratios.length} pairs ${fx(pair.q1)}–${fx(pair.q3)}; CPU per request ${fx(pair.cpuMedian)}); main table: ${figure(rs)}`,
      pair.median >= min,
    );
  };
  paired('tollgate-memory', 'bare', 'Tollgate, in-memory store ≥ 0.97× the bare runtime (req/s), JavaScript planner', 0.97);
  paired('tollgate-rust', 'bare-rust', 'Tollgate, in-memory store ≥ 0.97× the bare runtime (req/s), Rust planner', 0.97);
  paired('tollgate-redis', 'bare', 'Tollgate, Redis store ≥ 0.95× the bare runtime (req/s), JavaScript planner', 0.95);
  paired('tollgate-rust-redis', 'bare-rust', 'Tollgate, Redis store ≥ 0.95× the bare runtime (req/s), Rust planner', 0.95);
  /** A target on the req/s ratio of a to b at every connection count: at least `min`, or stated. */
  const ratioTarget = (a: string, b: string, name: string, min: number | 'stated') => {
    if (!has(a) || !has(b)) return;
    const rs = rpsRatios(a, b);
    target(name, figure(rs), min === 'stated' ? 'stated' : allAtLeast(rs, min));
  };
  paired('tollgate-rust', 'hive', "Tollgate as shipped on Node (Rust planner) ≥ 1.0× Hive Gateway's CLI as shipped (default planner), one process (req/s)", 1.0);
  paired('tollgate-memory', 'hive', 'Same, both with the JavaScript planner (req/s)', 1.0);
  paired('tollgate-rust', 'hive-rust', 'Same, both with the Rust planner (req/s)', 1.0);
  paired('tollgate-rust', 'apollo', 'Tollgate as shipped on Node (Rust planner) ahead of Apollo Gateway (req/s)', 1.0);
  paired('tollgate-memory', 'apollo', 'Same, Tollgate with the JavaScript planner (req/s)', 1.0);
  ratioTarget('bare-dedupe', 'bare', "For reference: the runtime's default upstream dedupe, gain on this one repeated query (req/s)", 'stated');
  if (has('tollgate-cluster') && has('tollgate-rust-redis')) {
    const rs = rpsRatios('tollgate-cluster', 'tollgate-rust-redis');
    const r = atTop(rs);
    // What the machine allows: every core busy with the cluster's CPU per request (gateway,
    // subgraphs, autocannon), over what the one process did with the cores it used.
    const single = point('tollgate-rust-redis', top);
    const cluster = point('tollgate-cluster', top);
    const cpuPerRequest = (p: PointResult) => p.gatewayCpuMsPerRequest + p.subgraphCpuMsPerRequest + p.loadgenCpuMsPerRequest;
    const ceiling =
      single && cluster
        ? `; the machine's ceiling at ${top}: ${fx(ratio((results.machine.cores * 1000) / cpuPerRequest(cluster), single.rps))} (all ${results.machine.cores} cores at the cluster's ${cpuPerRequest(cluster).toFixed(1)} CPU ms per request for gateway, subgraphs and autocannon; the single-process run already kept ${((single.rps * cpuPerRequest(single)) / 1000).toFixed(2)} cores busy with gateway, subgraphs and autocannon)`
        : '';
    target(
      `One process per core (${results.settings.clusterWorkers}, Redis, Rust planner) ≥ 1.7× one process (req/s, ${top} connections)`,
      figure(rs) + ceiling,
      r === undefined ? undefined : r >= 1.7,
    );
  }
  ratioTarget('tollgate-memory', 'tollgate-request', 'Isolate lifecycle gain over the request lifecycle (req/s, JavaScript planner)', 'stated');
  paired('tollgate-rust', 'hive', "Tollgate with the Rust planner ≥ 2.5× Hive Gateway's CLI, default planner (req/s)", 2.5);
  ratioTarget('tollgate-rust', 'tollgate-memory', 'Rust planner vs JavaScript planner in Tollgate (req/s; target: about 3×)', 2.5);

  // ---- paired rounds ----
  const pairedSection =
    results.paired && results.paired.length > 0
      ? [
          '## Paired rounds',
          '',
          `The targets compare Tollgate with the bare runtime running the same query planner (its overhead), and with Hive Gateway's CLI and Apollo Gateway. On this shared machine a gateway's requests/s moves by a quarter and more between rounds (the main table's "rounds min–max"), and in the main table the gateways' windows for one point are up to half a minute apart, so the table's ratios near 1 are mostly that noise. Here the two take turns in ${results.paired[0]!.connections}-connection windows of 1 s (after a ${results.settings.rampSeconds} s ramp), the order swapped every pair, ${results.paired[0]!.pairs} pairs${results.paired[0]!.starts ? ` spread over ${results.paired[0]!.starts} fresh starts of both processes, with only those two gateways running; after each start both are loaded at once for ${results.settings.pairWarmupSeconds ?? '?'} s, not counted, so both are measured at their steady speed` : ''}; a pair's two windows are a few seconds apart and mostly see the same machine. Fresh starts, because one process's speed can stay several per cent off another's of the same code for its whole life here (in trial runs, the same two gateways' median pair ratio moved between 0.92 and 0.99 from one start to the next). The figure is the median of the per-pair ratios, with the middle half of them; the targets above take their verdict from it.`,
          '',
          '| Tollgate / the other gateway | median req/s ratio | middle half | median CPU-per-request ratio | every pair (req/s ratio) |',
          '|---|---:|---:|---:|---|',
          ...results.paired.map(
            (p) =>
              `| ${label(p.a)} / ${label(p.b)} | ${fx(p.median)} | ${fx(p.q1)}–${fx(p.q3)} | ${fx(p.cpuMedian)} | ${p.ratios.map((r) => r.toFixed(2)).join(' ')} |`,
          ),
          '',
        ]
      : [];

  // ---- main table ----
  const tableRows: string[] = [];
  for (const c of results.settings.connections) {
    tableRows.push(`| **${c} connection${c === 1 ? '' : 's'}** | | | | | | | | | |`);
    for (const id of ids) {
      const p = point(id, c);
      if (!p) continue;
      // The bare runtime with the row's planner.
      const bare = point(id.includes('rust') && has('bare-rust') ? 'bare-rust' : 'bare', c);
      const hive = point('hive', c);
      const cell = (v: number, b: number | undefined, h: number | undefined, digits: number) =>
        `${v.toFixed(digits)} (${fx(ratio(v, b))} / ${fx(ratio(v, h))})`;
      tableRows.push(
        `| ${label(id)} | ${cell(p.rps, bare?.rps, hive?.rps, 0)} | ${Math.min(...p.roundRps).toFixed(0)}–${Math.max(...p.roundRps).toFixed(0)} | ${cell(p.p50, bare?.p50, hive?.p50, 0)} | ${cell(p.p99, bare?.p99, hive?.p99, 0)} | ` +
          `${p.errors} / ${p.non2xx} | ${cell(p.peakRssMiB, bare?.peakRssMiB, hive?.peakRssMiB, 0)} | ${p.gatewayCpuMsPerRequest.toFixed(2)} | ${((p.gatewayCpuMsPerRequest * p.rps) / 1000).toFixed(2)} | ${p.subgraphCallsPerRequest.toFixed(1)} |`,
      );
    }
  }

  // ---- answers and subgraph calls ----
  const subgraphNames = Object.keys(results.contenders[0]?.subgraphCalls ?? {});
  const answerRows = results.contenders.map((c) => {
    const total = Object.values(c.subgraphCalls).reduce((a, b) => a + b, 0);
    return `| ${c.label} | ${subgraphNames.map((n) => c.subgraphCalls[n] ?? 0).join(' / ')} | ${total} | ${c.answerBytes} | ${c.dataIdentical ? 'yes' : 'NO'} | ${c.bodyIdenticalToReference ? 'yes' : 'no'} |`;
  });

  // ---- cold starts ----
  const coldRows = results.contenders.map(
    (c) => `| ${c.label} (Node) | ${median(c.coldStartMs).toFixed(0)} | ${c.coldStartMs.map((ms) => ms.toFixed(0)).join(', ')} |`,
  );
  if (results.workerColdStart) {
    const w = results.workerColdStart;
    coldRows.push(`| Tollgate Worker in Miniflare: bundle load (Miniflare ready) | ${median(w.readyMs).toFixed(0)} | ${w.readyMs.map((ms) => ms.toFixed(0)).join(', ')} |`);
    coldRows.push(`| Tollgate Worker in Miniflare: bundle load to first answer | ${median(w.answerMs).toFixed(0)} | ${w.answerMs.map((ms) => ms.toFixed(0)).join(', ')} |`);
  }

  const bundle = results.bundle;
  const bundleRows = bundle?.parts.map((p) => `| ${p.name} | ${kib(p.bytes)} | ${((p.bytes / bundle.bytes) * 100).toFixed(1)} % | ${kib(p.gzipBytes)} |`) ?? [];

  const profileOf = (id: string) => results.profiles?.find((p) => p.contender === id);
  const compare = (a: string, b: string) => {
    const pa = profileOf(a);
    const pb = profileOf(b);
    if (!pa || !pb) return [];
    const names = [...new Set([...pa.byPackage, ...pb.byPackage].map((x) => x.name))];
    const ms = (p: typeof pa, name: string) => p.byPackage.find((x) => x.name === name)?.msPerRequest;
    const rows = names
      .map((name) => ({ name, a: ms(pa, name), b: ms(pb, name) }))
      .sort((x, y) => (y.b ?? 0) - (y.a ?? 0) - ((x.b ?? 0) - (x.a ?? 0)));
    const f = (v: number | undefined) => (v === undefined ? '< top 16' : v.toFixed(3));
    return [
      `**${label(b)} against ${label(a)}**, CPU ms per request by package (largest differences first; total ${pa.cpuMsPerRequest.toFixed(2)} vs ${pb.cpuMsPerRequest.toFixed(2)}):`,
      '',
      `| package | ${label(a)} | ${label(b)} | difference |`,
      '|---|---:|---:|---:|',
      ...rows.map((r) => `| ${r.name} | ${f(r.a)} | ${f(r.b)} | ${r.a !== undefined && r.b !== undefined ? (r.b - r.a >= 0 ? '+' : '') + (r.b - r.a).toFixed(3) : '–'} |`),
      '',
    ];
  };
  const profileSection =
    results.profiles && results.profiles.length > 0
      ? [
          '## Where the time goes (CPU profiles)',
          '',
          `\`node --cpu-prof\`, ${results.profiles[0]!.connections} connections for ${results.profiles[0]!.seconds} s each after a warm-up, one gateway at a time; only the samples of the measured window count. Self time grouped by package; Node's own code is split by what it does, and "(garbage collector)" and "(program)" are V8's. The profiler itself slows everything down a little, alike.`,
          '',
          ...compare('bare', 'tollgate-memory'),
          ...compare('bare-rust', 'tollgate-rust'),
          ...compare('tollgate-memory', 'tollgate-rust'),
          ...results.profiles.flatMap((p) => [
            `**${label(p.contender)}**: ${p.requests} requests profiled, ${p.cpuMsPerRequest.toFixed(2)} ms CPU each (busy ${(p.busyShare * 100).toFixed(0)} % of the window). Hottest functions:`,
            '',
            '| function | where | share of busy time |',
            '|---|---|---:|',
            ...p.topFunctions.map((f) => `| \`${f.name}\` | ${f.where} | ${(f.share * 100).toFixed(1)} % |`),
            '',
          ]),
        ]
      : [];

  const s = results.settings;
  const m = results.machine;
  const md = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench` (bench/run.ts); do not edit by hand. -->',
    '',
    `Tollgate side by side with the bare gateway runtime, Hive Gateway's CLI and Apollo Gateway, all measured in one run (${results.date.slice(0, 16).replace('T', ' ')} UTC) on ${m.cores} cores. Regenerate with \`npm run bench\` (about ${Math.ceil(results.totalSeconds / 60)} minutes).`,
    '',
    '![requests/s and p99 latency per gateway](bench/results/chart.svg)',
    '',
    '## Targets',
    '',
    '| target | figure (ratio at each connection count) | |',
    '|---|---|---|',
    ...targetRows,
    '',
    ...pairedSection,
    ...(results.workerPair ? workerSection(results.workerPair.result, results.workerPair.settings, results.workerPair.vars, results.workerPair.profiles, results.workerPair.load) : []),
    ...keptFrom(join(root, 'BENCHMARKS.md'), results.workerPair ? keptSections.slice(1) : keptSections),
    '## Results',
    '',
    `Each cell: the figure, then its ratio to the bare runtime with the same query planner and to Hive Gateway's CLI as shipped (its default, JavaScript planner) (\`×bare / ×Hive\`). Requests/s over all ${results.settings.rounds} rounds, with the slowest and fastest round beside it: the spread is the machine's noise, against which ratios near 1 must be read. Latency in ms. Errors are connection errors and timeouts. RSS is the highest resident memory sampled during the point (the whole process tree: a cluster's primary and workers). CPU is the gateway's CPU time per request (user + system, all its processes), which depends much less than requests/s on how the cores were shared; cores used = CPU per request × requests/s. Subgraph calls per request are counted at the subgraphs under the load: fewer than the plan's (next section) where a gateway merged identical in-flight subgraph requests.`,
    '',
    '| gateway | req/s | rounds min–max | p50 | p99 | errors / non-2xx | peak RSS MiB | CPU ms/req | cores used | subgraph calls/req |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...tableRows,
    '',
    '## Same answer everywhere',
    '',
    `Before measuring, every gateway answered the deep query once; its \`data\` is compared with the bare runtime's (JSON, field order included), and the whole body byte for byte. Subgraph calls are counted at the subgraphs for that one query (${subgraphNames.join(' / ')}).`,
    '',
    '| gateway | subgraph calls | total | answer bytes | same data | body byte-identical to bare |',
    '|---|---|---:|---:|---|---|',
    ...answerRows,
    '',
    '## Cold start',
    '',
    `Node: process spawn to the first answered deep query (the gateway loads and plans lazily, so this includes parsing the supergraph and planning the query). Miniflare: \`new Miniflare\` with the built bundle (dist/worker/index.js) to ready, and to the first answered deep query; the supergraph is fetched from a URL. Median of ${s.coldRuns}.`,
    '',
    '| gateway | median ms | runs ms |',
    '|---|---:|---|',
    ...coldRows,
    '',
    '## Worker bundle',
    '',
    bundle
      ? `dist/worker/index.js (\`npm run build:worker\`): ${kib(bundle.bytes)}, **${kib(bundle.gzipBytes)} gzipped** (gzip -9). Largest parts, attributing each byte of the bundle to its source through index.js.map (a part's own gzip size is a guide to its share, not additive):`
      : 'Not measured (no dist/worker/index.js).',
    '',
    ...(bundleRows.length ? ['| part | bytes | share | gzipped alone |', '|---|---:|---:|---:|', ...bundleRows, ''] : []),
    ...profileSection,
    '## Workload',
    '',
    '- Four federation subgraphs (bench/workload/): accounts (`User @key(id)`: name, username, birthday; `me`, `user(id)`, `users`), inventory (`Product`: `inStock`, `shippingEstimate @requires(fields: "price weight")`), products (`Product @key(upc)`: name, price, weight; `topProducts(first: Int = 5)`), reviews (`Review @key(id)`: body, product, `author @provides(fields: "username")`; `User.reviews`, `Product.reviews`). graphql-yoga + @apollo/subgraph, all four in one Node process on free loopback ports; composed with `composeSupergraph` (src/compose/compose.ts).',
    '- Static data: 6 users, 9 products, 11 reviews with bodies of 150–850 characters (bench/workload/data.ts).',
    `- One deep query (bench/workload/query.ts): \`users → reviews → product → reviews → author → reviews → product\` and \`topProducts → reviews → author → reviews → product\`, every scalar field; the answer is ${results.contenders[0]?.answerBytes ?? '?'} bytes of JSON.`,
    s.subgraphMemo
      ? '- Subgraph answers are memoised by request (accept header + body) after the first: the data is static, every gateway gets the same bytes, and the subgraph process costs little CPU on a machine it shares with the gateway and the load generator (its CPU per request is in bench/results/latest.json).'
      : '- Subgraph answers are computed for every request (SUBGRAPH_MEMO=0).',
    '',
    '## Settings',
    '',
    `- autocannon ${results.versions['autocannon']}, in the benchmark process, at ${s.connections.join(', ')} connections. ${s.firstWarmupSeconds ? `First, each gateway is loaded for ${s.firstWarmupSeconds} s at 10 connections (V8 optimises its hot code over the first thousands of requests; a long-running gateway runs at its steady speed). ` : ''}Per connection count: every gateway warmed up for ${s.warmupSeconds} s, then ${s.rounds} rounds in which the gateways take turns (order rotated each round); a round loads one gateway for ${s.rampSeconds} s + ${s.windowSeconds} s and counts only the responses completed in the ${s.windowSeconds} s window, so ${s.rounds * s.windowSeconds} s are measured per gateway and point. Requests/s = responses in the windows / their length; p50 and p99 over every response in the windows. All gateways run at once as separate processes, each idle while another is measured.`,
    s.upstreamDedupe
      ? "- Every request carries a unique `x-bench-request` header value (autocannon's `idReplacement`), so no gateway can merge identical in-flight client requests; inbound deduplication is off everywhere (the runtime's default). **Upstream deduplication on** (BENCH_UPSTREAM_DEDUPE=1): the Hive runtime's HTTP executor merges identical in-flight subgraph requests (its default), which concurrent requests of this one query always send, as the client header is not forwarded; Apollo Gateway does not merge them."
      : "- Every request carries a unique `x-bench-request` header value (autocannon's `idReplacement`), so no gateway can merge identical in-flight client requests; inbound deduplication is off everywhere (the runtime's default). **Upstream deduplication off for every gateway**: the client header is not forwarded to subgraphs, so concurrent requests of this one query send identical subgraph requests, which the Hive runtime's HTTP executor merges by default (`deduplicateInflightRequests`) and Apollo Gateway does not. The Hive-runtime gateways (Tollgate, the bare runtime, Hive Gateway) therefore get the supergraph with the runtime's own `@transport(..., options: { deduplicateInflightRequests: false })` schema directive per subgraph (bench/workload/transport.ts), read by all of them and by both planners alike, and every gateway makes every subgraph call of its plan. The row \"Bare runtime, upstream dedupe on\" is the runtime's default, on the composed supergraph as is, for reference.",
    `- Tollgate: \`node dist/node/main.js\` with SUPERGRAPH=<file>, HOST=127.0.0.1, LOG_LEVEL=warn, ENVIRONMENT=production, GATEWAY_LIFECYCLE=isolate unless stated. **Rate limiting is on** and decides every request (in memory, or one Redis round trip), with **RATE_LIMIT_MAX_REQUESTS=${s.rateLimitMax}**, above this run's request count, so no benchmark request is rejected. Redis: redis://127.0.0.1:6379 with the key prefix \`${s.redisKeyPrefix}\` (unique per run; keys expire with the 60 s window, nothing is flushed).`,
    `- Rust planner: \`@graphql-hive/router-runtime\` as the runtime's \`unifiedGraphHandler\` (src/gateway/planner.ts), selected with QUERY_PLANNER=rust; every other Tollgate row sets QUERY_PLANNER=js.`,
    `- Cluster: \`node dist/node/cluster.js\` (src/node/cluster.ts), ${s.clusterWorkers} workers sharing the port through node:cluster, Redis store shared.`,
    "- Bare runtime: `createGatewayRuntime` served by node:http directly, with the options of Tollgate's runtime that decide what is served and none of what Tollgate adds: no security plugins, upstream timeout, observability or request lifecycle (bench/gateways/benchRuntime.ts). Hive Gateway: `hive-gateway supergraph <file> --fork 1` (its defaults otherwise). Apollo Gateway: `@apollo/gateway` in `@apollo/server`'s standalone server, landing page off (bench/gateways/apollo.ts). NODE_ENV=production for every process.",
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB.toFixed(0)} GiB, Linux ${m.kernel}, Node ${m.node}. Load average before ${m.loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${m.loadAfter.map((l) => l.toFixed(2)).join(' ')}: the cores were shared with other work, which is why every figure is compared within this one run.`,
    `- Versions: ${Object.entries(results.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    '',
    '## Reading the numbers',
    '',
    '- Gateway, subgraphs and load generator share the same cores, so absolute requests/s are this machine\'s, and the ratios within the run are the result. CPU ms per request is the figure least affected by the sharing.',
    '- With two cores, a second gateway process competes with the subgraph process and autocannon for the second core; the cluster\'s gain is bounded by that, not only by the gateway.',
    '- Raw figures for every point, with the subgraphs\' and the load generator\'s CPU per request: bench/results/latest.json.',
    '',
  ].join('\n');
  writeFileSync(join(root, 'BENCHMARKS.md'), md);
}

/** The sections under `headings` of the file at `path` as they are, each as lines. */
function keptFrom(path: string, headings: readonly string[]): string[] {
  if (!existsSync(path)) return [];
  const markdown = readFileSync(path, 'utf8');
  return headings.flatMap((heading) => sectionOf(markdown, heading)?.trimEnd().split('\n').concat('') ?? []);
}
