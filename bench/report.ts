/**
 * Writes BENCHMARKS.md and bench/results/chart.svg from one run's results.
 */
import type { PointResult } from './measure.js';
import type { PairedResult } from './paired.js';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BundleSize } from './bundle.js';
import type { ProfileSummary } from './profile.js';
import type { SupergraphSwapResult } from './supergraph-swap.js';
import { groupedBarChart } from './svg.js';
import { contenders as knownContenders } from './gateways/contenders.js';
import type { JwtResult } from './jwt.js';
import type { PricingResult } from './cost.js';
import type { PolicyResult } from './policies.js';
import { cpuFigures, type RateLimitResult } from './ratelimit.js';
import type { WorkerStoresResult } from './workers-stores.js';
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
  /** The supergraph swap section (BENCH_SUPERGRAPH_SWAP=1, bench/supergraph-swap.ts). */
  readonly supergraphSwap?: SupergraphSwapResult;
  /** Tollgate's Worker against the bare Worker (bench/worker.ts). */
  readonly workerPair?: WorkerPairResults;
  readonly totalSeconds: number;
  /** The identity and rate-limit sections (BENCH_SECTIONS), each from its own latest run. */
  readonly identityAndPolicies?: IdentityAndPolicies;
}

/** When a section was measured, and the machine's load around it. */
export interface SectionRun {
  readonly date: string;
  readonly node: string;
  readonly loadBefore: readonly number[];
  readonly loadAfter: readonly number[];
}

export interface IdentityAndPolicies {
  jwt?: JwtResult;
  policies?: PolicyResult;
  /** Tollgate with identity and three policies against the default policy, paired. */
  identity?: PairedResult;
  rateLimit?: RateLimitResult;
  /** The rate-limit stores on Workers, in workerd (bench/workers-stores.ts). */
  workerStores?: WorkerStoresResult;
  /** Query cost: pricing the deep query (bench/cost.ts), and the gateway with a cost policy against without, paired. */
  cost?: { pricing: PricingResult; paired: PairedResult };
  /** Per section name. */
  runs?: Record<string, SectionRun>;
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
  const label = (id: string) => results.contenders.find((c) => c.id === id)?.label ?? knownContenders.find((c) => c.id === id)?.label ?? id;
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
  paired(
    'tollgate-rust',
    'hive',
    "Tollgate as shipped on Node (Rust planner) ≥ 1.0× Hive Gateway's CLI as shipped (default planner), one process (req/s)",
    1.0,
  );
  paired('tollgate-memory', 'hive', 'Same, both with the JavaScript planner (req/s)', 1.0);
  paired('tollgate-rust', 'hive-rust', 'Same, both with the Rust planner (req/s)', 1.0);
  paired('tollgate-rust', 'apollo', 'Tollgate as shipped on Node (Rust planner) ahead of Apollo Gateway (req/s)', 1.0);
  paired('tollgate-memory', 'apollo', 'Same, Tollgate with the JavaScript planner (req/s)', 1.0);
  ratioTarget(
    'bare-dedupe',
    'bare',
    "For reference: the runtime's default upstream dedupe, gain on this one repeated query (req/s)",
    'stated',
  );
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
  ratioTarget(
    'tollgate-memory',
    'tollgate-request',
    'Isolate lifecycle gain over the request lifecycle (req/s, JavaScript planner)',
    'stated',
  );
  paired('tollgate-rust', 'hive', "Tollgate with the Rust planner ≥ 2.5× Hive Gateway's CLI, default planner (req/s)", 2.5);
  ratioTarget('tollgate-rust', 'tollgate-memory', 'Rust planner vs JavaScript planner in Tollgate (req/s; target: about 3×)', 2.5);

  // ---- identity and rate-limit policies ----
  const ip = results.identityAndPolicies;
  const fu = (us: number) => (us >= 100 ? us.toFixed(0) : us.toFixed(1));
  const q = (xs: readonly number[], p: number) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const at = (sorted.length - 1) * p;
    const lo = Math.floor(at);
    return sorted.length === 0 ? NaN : sorted[lo]! + (sorted[Math.ceil(at)]! - sorted[lo]!) * (at - lo);
  };
  if (ip?.identity) {
    const p = ip.identity;
    target(
      'Tollgate with `RATE_LIMIT_IDENTITY=jwt,ip` (an HS256 bearer token verified on every request) and three policies ≥ 0.97× Tollgate with the default policy (req/s, Rust planner, in-memory store)',
      `paired, ${p.connections} connections: **${fx(p.median)}** (middle half of ${p.ratios.length} pairs ${fx(p.q1)}–${fx(p.q3)}; CPU per request ${fx(p.cpuMedian)})`,
      p.median >= 0.97,
    );
  }
  if (ip?.jwt) {
    target(
      'CPU per JWT verification, key cached (createJwtVerifier)',
      ip.jwt.algorithms.map((a) => `${a.algorithm} ${fu(a.cpuUsMedian)} µs`).join(', '),
      'stated',
    );
  }
  if (ip?.policies) {
    target(
      'CPU per rate-limit decision, three policies over one (the rate-limit step)',
      ip.policies.stores
        .map((st) => `${st.store}: ${fx(q(st.cpuRatios, 0.5))} (${fu(q(st.oneCpuUs, 0.5))} → ${fu(q(st.threeCpuUs, 0.5))} µs)`)
        .join('; '),
      'stated',
    );
  }
  if (ip?.rateLimit) {
    const byKind = new Map<string, (typeof ip.rateLimit.comparisons)[number][]>();
    for (const c of ip.rateLimit.comparisons) {
      const key = `${c.algorithm}|${c.what}`;
      byKind.set(key, [...(byKind.get(key) ?? []), c]);
    }
    for (const list of byKind.values()) {
      const first = list[0]!;
      if (!first.theirs) {
        target(
          `Decisions/s against Redis, ${first.algorithm} (rate-limiter-flexible has none)`,
          list.map((c) => `${c.ours.name}, ${c.workload}: ${Math.round(c.ours.median).toLocaleString('en-US')}/s`).join('; '),
          'stated',
        );
        continue;
      }
      target(
        `Decisions/s against Redis ≥ 1.0× rate-limiter-flexible, ${first.algorithm}, ${first.what}: ${first.ours.name} / ${first.theirs.name}`,
        list.map((c) => `${c.workload}: **${fx(c.median)}** (middle half ${fx(c.q1)}–${fx(c.q3)})`).join('; '),
        list.every((c) => c.median! >= 1.0),
      );
    }
  }

  if (ip?.workerStores) {
    const ws = ip.workerStores;
    target(
      'Rate-limit decision on Workers, per store (workerd, loopback, timed by the client: p50 of a 429 decided by the store; decisions/s)',
      ws.stores
        .map((st) => `${st.store} ${st.storeLimited.p50.toFixed(2)} ms, ${Math.round(st.decisions.median).toLocaleString('en-US')}/s`)
        .join('; '),
      'stated',
    );
  }

  if (ip?.cost) {
    const { pricing, paired: p } = ip.cost;
    const kind = (k: string) => pricing.kinds.find((x) => x.kind === k)?.cpuUsMedian;
    target(
      'Tollgate with a cost policy (every operation priced, its estimate spent from a bucket) ≥ 0.98× Tollgate without (req/s, Rust planner, in-memory store)',
      `paired, ${p.connections} connections: **${fx(p.median)}** (middle half of ${p.ratios.length} pairs ${fx(p.q1)}–${fx(p.q3)}; CPU per request ${fx(p.cpuMedian)})`,
      p.median >= 0.98,
    );
    target(
      'CPU per pricing of the deep query (createCostEstimator)',
      `uncached ${fu(kind('uncached') ?? NaN)} µs, cached ${fu(kind('cached') ?? NaN)} µs; the pricing step with both cached ${fu(kind('step') ?? NaN)} µs; the actual cost of its answer ${fu(kind('actual') ?? NaN)} µs`,
      'stated',
    );
  }

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

  // ---- identity and rate-limit policies ----
  /** When a section run alone was measured, and the machine's load around it. */
  const when = (name: string) => {
    const run = ip?.runs?.[name];
    return run
      ? ` Measured ${run.date.slice(0, 16).replace('T', ' ')} UTC (Node ${run.node}; load average before ${run.loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${run.loadAfter.map((l) => l.toFixed(2)).join(' ')}).`
      : '';
  };
  const identitySection: string[] = [];
  if (ip && (ip.jwt || ip.policies || ip.identity || ip.rateLimit || ip.workerStores)) {
    identitySection.push(
      '## Identity and rate-limit policies',
      '',
      `Sections of \`npm run bench\` that can be run alone (\`BENCH_SECTIONS=jwt,policies,identity,ratelimit,workers-stores npm run bench\`, a few minutes each; the gateway figures above are kept). On this shared 2-core machine only ratios between runs that took turns in the same section mean anything; absolute figures move with the machine's other work.`,
      '',
    );
    if (ip.jwt) {
      const j = ip.jwt;
      identitySection.push(
        '### JWT verification, key cached',
        '',
        `Tollgate's verifier (\`createJwtVerifier\`, src/identity/jwt.ts, jose on WebCrypto) as the identity step calls it: signature, \`exp\`/\`nbf\`, issuer, audience, identity and tier claims. RS256 (2048-bit), ES256 and EdDSA (Ed25519) against a JWKS from a local HTTP server on 127.0.0.1, fetched once before measuring and cached (no fetch while measuring); HS256 against \`JWT_SECRET\`. ${j.algorithms[0]?.verificationsPerRound ?? '?'} verifications of ${j.tokens} users' tokens per algorithm and round, one after another, ${j.rounds} rounds with the algorithms taking turns. CPU is this process's (user + system, WebCrypto's worker threads included); wall time per verification beside it.${when('jwt')}`,
        '',
        '| algorithm | key | CPU µs per verification (median round) | rounds | wall µs (median round) |',
        '|---|---|---:|---|---:|',
        ...j.algorithms.map(
          (a) => `| ${a.algorithm} | ${a.key} | **${fu(a.cpuUsMedian)}** | ${a.cpuUsPerRound.map(fu).join(' ')} | ${fu(a.wallUsMedian)} |`,
        ),
        '',
      );
    }
    if (ip.policies) {
      const pol = ip.policies;
      identitySection.push(
        '### One policy against three',
        '',
        `The rate-limit step (src/lifecycle/steps/rateLimit.ts) deciding a request as the lifecycle hands it over, ${pol.clients} clients, limits no run reaches. One policy: the default fixed window on the identity, which is the address (\`RATE_LIMIT_IDENTITY=ip\`): one store call of one check. Three: a fixed window with a penalty on the address, a sliding window and a token bucket on a verified identity (\`jwt:user-N\`): two store calls in parallel (one check, two checks). The two take turns, ${pol.rounds} rounds; the ratio is per round, then the median. In memory one decision after another; on Redis (ResilientStore around RedisStore, a private redis-server) with decisions in flight, the redis-server's CPU beside the gateway process's.${when('policies')}`,
        '',
        '| store | in flight | CPU µs per decision, 1 policy | 3 policies | 3 / 1 (median, rounds) | decisions/s, 1 / 3 | redis-server CPU µs per decision, 1 / 3 |',
        '|---|---:|---:|---:|---|---:|---:|',
        ...pol.stores.map(
          (st) =>
            `| ${st.store} | ${st.concurrency} | ${fu(q(st.oneCpuUs, 0.5))} | ${fu(q(st.threeCpuUs, 0.5))} | **${fx(q(st.cpuRatios, 0.5))}** (${st.cpuRatios.map((r) => r.toFixed(2)).join(' ')}) | ${Math.round(q(st.oneRate, 0.5)).toLocaleString('en-US')} / ${Math.round(q(st.threeRate, 0.5)).toLocaleString('en-US')} | ${st.oneServerCpuUs && st.threeServerCpuUs ? `${fu(q(st.oneServerCpuUs, 0.5))} / ${fu(q(st.threeServerCpuUs, 0.5))}` : '–'} |`,
        ),
        '',
      );
    }
    if (ip.identity) {
      const p = ip.identity;
      identitySection.push(
        '### Identity and three policies in the gateway, paired',
        '',
        `${label(p.a)} against ${label(p.b)} (the default policy, \`RATE_LIMIT_IDENTITY=ip\`), both with the Rust planner and the in-memory store, on the deep query at ${p.connections} connections. Every request of both carries a valid HS256 bearer token, the next of a pool of a few hundred users' (\`BENCH_IDENTITY_USERS\`; every tenth of tier \`pro\`); the identity gateway verifies it (\`JWT_SECRET\`, \`JWT_TIER_CLAIM=tier\`) and decides a fixed window with a penalty on the address, a sliding window and a token bucket on the user, limits far above the run, so nothing is rejected (checked before measuring: the \`pro\` tier's own limit appears in \`RateLimit-Policy\`). Paired as above: 1 s windows in turns, ${p.pairs} pairs over ${p.starts ?? '?'} fresh starts of both.${when('identity')}`,
        '',
        '| median req/s ratio | middle half | median CPU-per-request ratio | every pair (req/s ratio) |',
        '|---:|---:|---:|---|',
        `| **${fx(p.median)}** | ${fx(p.q1)}–${fx(p.q3)} | ${fx(p.cpuMedian)} | ${p.ratios.map((r) => r.toFixed(2)).join(' ')} |`,
        '',
      );
    }
    if (ip.rateLimit) {
      const rl = ip.rateLimit;
      identitySection.push(
        '### Decisions per second against Redis, beside rate-limiter-flexible',
        '',
        `bench/ratelimit.ts: a private redis-server ${rl.versions.redis} on loopback, rate-limiter-flexible ${rl.versions.rateLimiterFlexible} through the same ioredis client, the same keys and ${rl.concurrency} decisions in flight. RedisStore sends the commands issued together on its connection in one write (the first of a burst at once, those issued with it held to the burst's end, at most 16 per write: src/ratelimit/redis/writeCoalescer.ts); rate-limiter-flexible's go out as ioredis sends them, one write each, and, for reference, on a second client with ioredis's \`enableAutoPipelining\` (which holds a tick's commands while an earlier batch is outstanding). The two sides of a comparison run back to back, the order reversed every round, ${rl.rounds} rounds; the figure is the median of the per-round ratios. Workloads: mostly allowed (1000 keys × 50 decisions, within every limit) and mostly over the limit (200 keys × 200: 50 allowed, then rejected). Fixed window: 50 per 60 s with a 40 s block — ours against \`RateLimiterRedis\` with \`blockDuration\`, and, block cache against block cache, ResilientStore (which answers blocks it has seen locally) against \`RateLimiterRedis\` with \`blockDuration\` and \`inMemoryBlockOnConsumed\` (blocked in memory from the first denial). Token bucket: 50 tokens refilled at 1 per second — ours against \`BurstyRateLimiter\` (1 point per second, then a burst limiter of 50 per 50 s; two Redis calls whenever the first limiter rejects), and with both sides' block caches. Sliding window: 50 per 60 s; rate-limiter-flexible has none, so ours alone. Commands per decision counted with MONITOR.${when('ratelimit')}`,
        '',
        '| workload | algorithm | ours | decisions/s | cmds/decision | rate-limiter-flexible | decisions/s | cmds/decision | ours / theirs (median) | middle half | rounds | allowed (ours / theirs) |',
        '|---|---|---|---:|---:|---|---:|---:|---:|---:|---|---|',
        ...rl.comparisons.map((c) => {
          const n = (x: number) => Math.round(x).toLocaleString('en-US');
          return c.theirs
            ? `| ${c.workload} | ${c.algorithm} | ${c.ours.name} | ${n(c.ours.median)} | ${c.ours.commandsPerDecision.toFixed(2)} | ${c.theirs.name} | ${n(c.theirs.median)} | ${c.theirs.commandsPerDecision.toFixed(2)} | **${fx(c.median)}** | ${fx(c.q1)}–${fx(c.q3)} | ${c.ratios!.map((r) => r.toFixed(2)).join(' ')} | ${c.ours.allowed} / ${c.theirs.allowed} of ${c.ours.total} |`
            : `| ${c.workload} | ${c.algorithm} | ${c.ours.name} | ${n(c.ours.median)} | ${c.ours.commandsPerDecision.toFixed(2)} | none | – | – | – | – | ${c.ours.rates.map((r) => n(r)).join(' ')} /s | ${c.ours.allowed} of ${c.ours.total} |`;
        }),
        '',
        "Where the time goes, medians over the rounds: CPU per decision of this process (the client and the harness) and of the redis-server, and Redis's time per script call (`INFO commandstats`, EVALSHA and EVAL), µs.",
        '',
        '| workload | algorithm | ours | node / redis-server CPU (script) | rate-limiter-flexible | node / redis-server CPU (script) |',
        '|---|---|---|---|---|---|',
        ...rl.comparisons.map(
          (c) =>
            `| ${c.workload} | ${c.algorithm} | ${c.ours.name} | ${cpuFigures(c.ours)} | ${c.theirs?.name ?? 'none'} | ${c.theirs ? cpuFigures(c.theirs) : '–'} |`,
        ),
        '',
        `A client ResilientStore already knows is blocked costs no Redis command: ${rl.cachedBlocked.decisions.toLocaleString('en-US')} decisions answered from its block cache, ${rl.cachedBlocked.scriptCalls} script calls at Redis meanwhile.`,
        '',
      );
    }
    if (ip.workerStores) {
      const ws = ip.workerStores;
      const st = ws.settings;
      const memory = ws.stores.find((x) => x.store === 'memory');
      const ms = (x: number) => x.toFixed(2);
      const span = (xs: readonly number[], digits: number) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
      const n = (x: number) => Math.round(x).toLocaleString('en-US');
      identitySection.push(
        '### Rate-limit stores on Workers, in workerd',
        '',
        `bench/workers-stores.ts: the built Worker bundle (dist/worker/index.js) in workerd through Miniflare ${ws.versions.miniflare}, once per store, all four running at once and taking turns in ${st.rounds} rounds (order rotated every round): \`memory\` (per isolate); \`durable-object\` (\`RATE_LIMIT_STORE=durable-object\`, the RATE_LIMITER binding of RateLimiterObject, SQLite-backed, in the same workerd); \`upstash\` (the Upstash REST stand-in, a Node process of its own, in front of a private redis-server ${ws.versions.redis}: one HTTP request and an EVAL per decision); \`redis\` (\`REDIS_URL\`, a new TCP connection to a private redis-server per request, as on Workers). Everything on loopback, timed by the client outside workerd (workerd's clock stands still between I/O): from sending a request to having read its answer, over keep-alive HTTP to Miniflare's entry socket. Every request has its own client address (\`cf-connecting-ip\`), so the isolate's block cache never answers for another client; the deadline is 5 s so every decision is the store's (checked: the decision label of every measured request in the Worker's log, LOG_LEVEL=info in the latency part, warn under load; warnings logged: ${ws.stores.map((x) => `${x.store} ${x.warnings}`).join(', ')}).${when('workers-stores')}`,
        '',
        `**Decision latency**, one request in flight, a limit of 1 per client: ${st.keys} new clients per store and round, each sending \`{ __typename }\` three times — allowed (the key's first decision; for \`durable-object\` the object is created), then a 429 decided by the store (the object warm), then a 429 from the isolate's memory of blocks (no store call; \`memory\`: the MemoryStore's own block). A 429 runs no GraphQL, so the store's 429 minus the memory store's is the store's cost per decision. Medians over all ${st.rounds * st.keys} clients per store; the spread is each round's own p50 or p99 (min–max).`,
        '',
        '| store | 429 decided by the store: p50 ms | rounds p50 | p99 ms | rounds p99 | over memory (p50) | first decision, allowed: p50 / p99 ms | 429 from the block cache: p50 ms |',
        '|---|---:|---:|---:|---:|---:|---:|---:|',
        ...ws.stores.map(
          (x) =>
            `| ${x.label} | **${ms(x.storeLimited.p50)}** | ${span(x.storeLimited.roundP50, 2)} | ${ms(x.storeLimited.p99)} | ${span(x.storeLimited.roundP99, 1)} | ${memory && x !== memory ? `+${ms(x.storeLimited.p50 - memory.storeLimited.p50)} ms` : '–'} | ${ms(x.first.p50)} / ${ms(x.first.p99)} | ${ms(x.cachedBlock.p50)} |`,
        ),
        '',
        `**Under load**, limits never reached (1,000,000,000 per window), ${st.connections} connections, ${st.pool} client addresses per store in turn (each key decided once before, so its object exists): decisions/s on \`{ __typename }\` (the cheapest request that needs a decision) and the gateway's requests/s on the demo query (\`${'{ topProducts { name price reviews { body author { name } } } }'}\`, the in-isolate demo subgraphs). A round: ${st.rampSeconds} s ramp, then a ${st.windowSeconds} s window in which only completed responses count; the figure is the median round, the spread every round's. CPU: workerd's whole process (the Durable Object runs in it) and the store's own processes (redis-server; the REST stand-in and its redis-server), per request, over all windows.`,
        '',
        '| store | decisions/s (median) | rounds | over memory | workerd CPU ms/decision | store processes CPU µs/decision | demo query req/s (median) | rounds | over memory | p50 / p99 ms | workerd CPU ms/req |',
        '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
        ...ws.stores.map(
          (x) =>
            `| ${x.label} | **${n(x.decisions.median)}** | ${span(x.decisions.rounds, 0)} | ${memory ? fx(x.decisions.median / memory.decisions.median) : '–'} | ${ms(x.decisions.workerdCpuMsPerRequest)} | ${x.decisions.storeCpuUsPerRequest > 0 ? x.decisions.storeCpuUsPerRequest.toFixed(0) : '–'} | **${n(x.demo.median)}** | ${span(x.demo.rounds, 0)} | ${memory ? fx(x.demo.median / memory.demo.median) : '–'} | ${x.demo.p50.toFixed(0)} / ${x.demo.p99.toFixed(0)} | ${ms(x.demo.workerdCpuMsPerRequest)} |`,
        ),
        '',
        "Read the load part against its rounds: where two stores' ranges overlap, this shared machine does not tell them apart. The Durable Object's cost here is not distance: its object runs in the same workerd, and each decision writes the key's state to the object's SQLite file on local disk (Miniflare's default; strace counted about three fsyncs per decision, each taking about 50 µs) before the output gate lets the reply go — where the rest of its 20 ms goes inside workerd was not broken down; its p50 stayed within a few ms across rounds while the other stores' moved with the machine's load.",
        '',
        "A local Durable Object is near by construction: these figures have no network distance in them. In production an object lives in one location, chosen near where it was first used (or by `locationHint`, or held inside a `jurisdiction`), and every decision for its key travels there from whichever location served the request: add the round trip between the two (a few ms within a region, 100 ms and more across an ocean). Likewise Upstash adds the round trip from the Worker's location to the database's primary region (every decision is a write), and TCP Redis its own distance plus a TCP (and TLS) handshake on every request.",
        '',
      );
    }
  }

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
    coldRows.push(
      `| Tollgate Worker in Miniflare: bundle load (Miniflare ready) | ${median(w.readyMs).toFixed(0)} | ${w.readyMs.map((ms) => ms.toFixed(0)).join(', ')} |`,
    );
    coldRows.push(
      `| Tollgate Worker in Miniflare: bundle load to first answer | ${median(w.answerMs).toFixed(0)} | ${w.answerMs.map((ms) => ms.toFixed(0)).join(', ')} |`,
    );
  }

  const bundle = results.bundle;
  const bundleRows =
    bundle?.parts.map((p) => `| ${p.name} | ${kib(p.bytes)} | ${((p.bytes / bundle.bytes) * 100).toFixed(1)} % | ${kib(p.gzipBytes)} |`) ??
    [];

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
      ...rows.map(
        (r) =>
          `| ${r.name} | ${f(r.a)} | ${f(r.b)} | ${r.a !== undefined && r.b !== undefined ? (r.b - r.a >= 0 ? '+' : '') + (r.b - r.a).toFixed(3) : '–'} |`,
      ),
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

  const swap = results.supergraphSwap;
  const swapSection = swap
    ? [
        '## Supergraph swap',
        '',
        `Tollgate on Node (\`dist/node/main.js\`), the supergraph a watched file swapped between two one-subgraph graphs that answer \`{ color }\` differently (bench/supergraph-swap.ts): ${swap.seconds} s of load at ${swap.connections} connections without swaps, then as long with a swap every second; the time from the file's rename to the first answer on the new graph (20 swaps, one request after another); RSS (from /metrics) and V8 heap used after 1 swap and after ${swap.afterMany.swaps}, each after full garbage collections in the gateway (through its inspector). One run on this machine: a figure, not a target.`,
        '',
        '| | req/s | p99 ms | non-2xx | errors |',
        '|---|---:|---:|---:|---:|',
        `| steady | ${swap.steady.rps.toFixed(0)} | ${swap.steady.p99} | ${swap.steady.non2xx} | ${swap.steady.errors} |`,
        `| a swap every second | ${swap.swapping.rps.toFixed(0)} | ${swap.swapping.p99} | ${swap.swapping.non2xx} | ${swap.swapping.errors} |`,
        '',
        `Change to the first answer on the new graph: median ${swap.timeToNewGraphMs.median} ms, max ${swap.timeToNewGraphMs.max} ms. Memory: RSS ${swap.afterOne.rssMiB.toFixed(0)} MiB and heap ${swap.afterOne.heapMiB.toFixed(1)} MiB after 1 swap, ${swap.afterMany.rssMiB.toFixed(0)} MiB and ${swap.afterMany.heapMiB.toFixed(1)} MiB after ${swap.afterMany.swaps} (${perSwapKiB(swap.afterOne.rssMiB, swap.afterMany.rssMiB, swap.afterMany.swaps)} and ${perSwapKiB(swap.afterOne.heapMiB, swap.afterMany.heapMiB, swap.afterMany.swaps)} KiB per swap).`,
        '',
      ]
    : [];

  // ---- query cost ----
  const costSection: string[] = [];
  if (ip?.cost) {
    const { pricing, paired: p } = ip.cost;
    costSection.push(
      '## Query cost',
      '',
      `A section of \`npm run bench\` that can be run alone (\`BENCH_SECTIONS=cost npm run bench\`, a few minutes; the other figures are kept).${when('cost')}`,
      '',
      '### Pricing an operation',
      '',
      `bench/cost.ts: the deep query (bench/workload/query.ts) priced against the benchmark's supergraph, which has no cost directives (every list at \`COST_DEFAULT_LIST_SIZE\`, 10): estimate **${pricing.estimate.toLocaleString('en-US')}**, ${pricing.nodesVisited} selections and argument values visited. Uncached: \`estimate\` for a cache key it has not seen (the lookup that misses, the walk, the store), as a new operation's first request pays. Cached: the same key again, as every repeated operation pays. The pricing step (src/lifecycle/steps/operationCost.ts) as a request reaches it, with the document parsed and priced before: the JSON body read (once: the runtime executes the parameters read, src/http/graphqlParams.ts), the document from its cache, the estimate from its cache. Parsing the document, beside them, is what a new document adds (once per distinct text). The actual cost (src/cost/actual.ts) walks the deep query's real answer (the benchmark's subgraphs run once through the runtime before timing): what every executed priced operation adds after execution${pricing.actual === undefined ? '' : ` (the answer costs ${pricing.actual.toLocaleString('en-US')}, ${pricing.actualNodesVisited} values and fields visited)`}. ${pricing.callsPerRound} calls per kind and round, one after another, ${pricing.rounds} rounds with the kinds taking turns; CPU of this process (user + system).`,
      '',
      '| what | CPU µs per call (median round) | rounds |',
      '|---|---:|---|',
      ...pricing.kinds.map((k) => `| ${k.label} | **${fu(k.cpuUsMedian)}** | ${k.cpuUsPerRound.map(fu).join(' ')} |`),
      '',
      '### A cost policy in the gateway, paired',
      '',
      `${label(p.a)} against ${label(p.b)}, both with the Rust planner and the in-memory store, on the deep query at ${p.connections} connections. The cost gateway prices every operation before the rate limit and decides the default policy and a token bucket in cost (\`"unit": "cost"\`) on the same key in one store call, limits far above the run and refilled faster than it spends, so nothing is rejected (checked before measuring: \`RateLimit\` shows the bucket spent by the estimate). Both get the same requests; the deep query is one document, so after its first request its parse and estimate come from their caches. Paired as above: 1 s windows in turns, ${p.pairs} pairs over ${p.starts ?? '?'} fresh starts of both.`,
      '',
      '| median req/s ratio | middle half | median CPU-per-request ratio | every pair (req/s ratio) |',
      '|---:|---:|---:|---|',
      `| **${fx(p.median)}** | ${fx(p.q1)}–${fx(p.q3)} | ${fx(p.cpuMedian)} | ${p.ratios.map((r) => r.toFixed(2)).join(' ')} |`,
      '',
    );
  }

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
    ...identitySection,
    ...costSection,
    ...(results.workerPair
      ? workerSection(
          results.workerPair.result,
          results.workerPair.settings,
          results.workerPair.vars,
          results.workerPair.profiles,
          results.workerPair.load,
        )
      : []),
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
    ...swapSection,
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
    `- Versions: ${Object.entries(results.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
    '## Reading the numbers',
    '',
    "- Gateway, subgraphs and load generator share the same cores, so absolute requests/s are this machine's, and the ratios within the run are the result. CPU ms per request is the figure least affected by the sharing.",
    "- With two cores, a second gateway process competes with the subgraph process and autocannon for the second core; the cluster's gain is bounded by that, not only by the gateway.",
    "- Raw figures for every point, with the subgraphs' and the load generator's CPU per request: bench/results/latest.json.",
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

/** The growth from `first` to `last` MiB over `swaps` swaps, in KiB per swap (signed, whole). */
function perSwapKiB(first: number, last: number, swaps: number): string {
  const kib = Math.round(((last - first) * 1024) / swaps);
  return kib > 0 ? `+${kib}` : String(kib);
}
