/**
 * CPU per pricing of the benchmark's deep query (bench/workload/query.ts) against the benchmark's
 * supergraph (its four subgraphs, no cost directives: every list at the default size, 10):
 *
 * - uncached: `createCostEstimator(...).estimate` for a document the estimator has not priced
 *   (a cache key it has not seen: the lookup that misses, the walk, the store), as a new
 *   operation's first request pays;
 * - cached: the same call again for the same key, as every repeated operation pays;
 * - the pricing step (src/lifecycle/steps/operationCost.ts) as a request reaches it, the document
 *   priced before: reading the JSON body from a copy of the request, the parsed document from its
 *   cache, the cached estimate;
 * - parsing the document (`graphql`'s `parse`, as the step does once per distinct text), which
 *   a new document adds to its uncached pricing;
 * - and the actual cost (src/cost/actual.ts) over the deep query's real answer (the benchmark's
 *   subgraphs run once, through the runtime, before timing), as every executed priced operation
 *   pays after execution.
 *
 * The four take turns in rounds (order rotated each round); the figure is the median round's
 * CPU µs per call (user + system of this process).
 *
 *   npx tsx bench/cost.ts                (about 10 s)
 *
 * Also a section of `npm run bench` (BENCH_SECTIONS=cost), with Tollgate with a cost policy
 * against Tollgate without, paired (bench/run.ts).
 */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import http from '@graphql-mesh/transport-http';
import { parse } from 'graphql';
import { actualCost } from '../src/cost/actual.js';
import { composeSupergraph } from '../src/compose/compose.js';
import { currentEstimator } from '../src/cost/current.js';
import { createCostEstimator } from '../src/cost/estimator.js';
import { RequestContext } from '../src/lifecycle/context.js';
import { operationCost } from '../src/lifecycle/steps/operationCost.js';
import { quantile } from './paired.js';
import { costBenchLimit } from './workload/cost.js';
import { deepQuery, deepQueryBody } from './workload/query.js';
import { startWorkloadSubgraphs, typeDefs } from './workload/subgraphs.js';

/**
 * A full collection before each timed round, so the garbage of its setup (thousands of requests)
 * or of the round before is not collected, and charged, inside it.
 */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

export interface PricingSettings {
  readonly rounds: number;
  /** Calls per round and kind. */
  readonly calls: number;
}

export const defaultPricingSettings = (env: NodeJS.ProcessEnv = process.env): PricingSettings => ({
  rounds: Number(env['BENCH_COST_ROUNDS'] ?? 7),
  calls: Number(env['BENCH_COST_CALLS'] ?? 5000),
});

export interface PricingKind {
  readonly kind: 'uncached' | 'cached' | 'step' | 'parse' | 'actual';
  readonly label: string;
  /** CPU µs per call, per round, in order. */
  readonly cpuUsPerRound: readonly number[];
  readonly cpuUsMedian: number;
}

export interface PricingResult {
  readonly rounds: number;
  readonly callsPerRound: number;
  /** The deep query's estimate, and the selections and argument values its walk looked at. */
  readonly estimate: number;
  readonly nodesVisited: number;
  /** The actual cost of the deep query's answer, and the values and fields its walk looked at. */
  readonly actual?: number;
  readonly actualNodesVisited?: number;
  readonly kinds: readonly PricingKind[];
}

/** The benchmark's supergraph; its URLs are never called here. */
const supergraphSdl = (): string =>
  composeSupergraph(Object.entries(typeDefs).map(([name, sdl]) => ({ name, url: `http://${name}.bench.invalid/graphql`, typeDefs: sdl })));

const labels: Record<PricingKind['kind'], string> = {
  uncached: 'estimate, uncached (`estimate` for a key not seen before)',
  cached: 'estimate, cached (`estimate` for the same key again)',
  step: 'the pricing step, document and estimate cached (body read, parse cache, estimate cache)',
  parse: 'parse the document (`graphql` `parse`, once per distinct text)',
  actual: 'the actual cost over the deep query’s answer (`actualCost`)',
};

/** The deep query's answer from the benchmark's subgraphs, through the runtime: what `actualCost` walks. */
async function deepQueryData(): Promise<{ data: unknown; supergraphSdl: string }> {
  const subgraphs = await startWorkloadSubgraphs();
  const runtime = createGatewayRuntime({ supergraph: subgraphs.supergraphSdl, transports: { http }, logging: false });
  try {
    const response = await runtime.fetch('http://bench.invalid/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: deepQueryBody,
    });
    const body = (await response.json()) as { data?: unknown; errors?: unknown };
    if (!body.data || body.errors) throw new Error(`the deep query failed: ${JSON.stringify(body.errors)}`);
    return { data: body.data, supergraphSdl: subgraphs.supergraphSdl };
  } finally {
    await runtime.dispose();
    await subgraphs.close();
  }
}

export async function measurePricing(settings: PricingSettings, log: (message: string) => void = () => {}): Promise<PricingResult> {
  const sdl = supergraphSdl();
  const estimator = createCostEstimator(sdl);
  const document = parse(deepQuery, { noLocation: true });
  const first = estimator.estimate(document, 'DeepQuery', {}, { cacheKey: 'first' });
  if (!first.ok) throw new Error(`the deep query was not priced: ${first.message}`);
  const answer = await deepQueryData();
  const actualOnce = actualCost(estimator.schema, document, 'DeepQuery', {}, answer.data);
  if (!actualOnce) throw new Error('the deep query’s actual cost could not be told');
  log(`cost: the deep query's answer costs ${actualOnce.cost} (${actualOnce.nodesVisited} nodes visited), estimated ${first.cost}`);
  // Keys made before timing; each round of uncached calls takes keys no earlier call used.
  let nextKey = 0;
  const freshKeys = (n: number) => Array.from({ length: n }, () => `deep-${nextKey++}`);

  const costs = currentEstimator(10, (error) => {
    throw error;
  });
  costs.swap(sdl);
  const step = operationCost({ estimator: costs, maxCost: undefined, maxTokens: 1000, batchLimit: 0 });
  const platform = { waitUntil: () => {} };
  const contexts = (n: number) =>
    Array.from(
      { length: n },
      () =>
        new RequestContext(
          new Request('http://127.0.0.1/graphql', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: deepQueryBody,
          }),
          platform,
          '/graphql',
        ),
    );
  const passOn = async () => {};

  /** CPU µs per call of one round of `kind`. */
  const run = async (kind: PricingKind['kind'], n: number): Promise<number> => {
    // What the round works on is made outside the timing.
    const keys = kind === 'uncached' ? freshKeys(n) : [];
    const requests = kind === 'step' ? contexts(n) : [];
    // The uncached rounds' keys may have pushed the repeated one out of the cache.
    if (kind === 'cached') estimator.estimate(document, 'DeepQuery', {}, { cacheKey: 'first' });
    let check = 0;
    collectGarbage();
    const cpu = process.cpuUsage();
    switch (kind) {
      case 'uncached':
        for (const cacheKey of keys) {
          const result = estimator.estimate(document, 'DeepQuery', {}, { cacheKey });
          if (result.ok && !result.cached) check++;
        }
        break;
      case 'cached':
        for (let i = 0; i < n; i++) {
          const result = estimator.estimate(document, 'DeepQuery', {}, { cacheKey: 'first' });
          if (result.ok && result.cached) check++;
        }
        break;
      case 'step':
        for (const c of requests) {
          await step(c, passOn);
          if (c.cost === first.cost) check++;
        }
        break;
      case 'parse':
        for (let i = 0; i < n; i++) if (parse(deepQuery, { noLocation: true }).definitions.length > 0) check++;
        break;
      case 'actual':
        for (let i = 0; i < n; i++)
          if (actualCost(estimator.schema, document, 'DeepQuery', {}, answer.data)?.cost === actualOnce.cost) check++;
        break;
    }
    const used = process.cpuUsage(cpu);
    if (check !== n) throw new Error(`${kind}: ${n - check} of ${n} calls did not do what is measured`);
    return (used.user + used.system) / n;
  };

  const kinds = Object.keys(labels) as PricingKind['kind'][];
  // Warm-up: V8 optimises each path first.
  for (const kind of kinds) await run(kind, Math.min(settings.calls, 2000));
  const perRound = new Map<PricingKind['kind'], number[]>(kinds.map((k) => [k, []]));
  const started = performance.now();
  for (let r = 0; r < settings.rounds; r++) {
    const shift = r % kinds.length;
    for (const kind of [...kinds.slice(shift), ...kinds.slice(0, shift)]) perRound.get(kind)!.push(await run(kind, settings.calls));
  }
  const result: PricingResult = {
    rounds: settings.rounds,
    callsPerRound: settings.calls,
    estimate: first.cost,
    nodesVisited: first.nodesVisited,
    actual: actualOnce.cost,
    actualNodesVisited: actualOnce.nodesVisited,
    kinds: kinds.map((kind) => ({
      kind,
      label: labels[kind],
      cpuUsPerRound: perRound.get(kind)!,
      cpuUsMedian: quantile(perRound.get(kind)!, 0.5),
    })),
  };
  log(
    `cost: the deep query estimated at ${result.estimate} (${result.nodesVisited} nodes visited); ${settings.rounds} rounds × ${settings.calls} calls in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  for (const k of result.kinds) {
    log(
      `cost ${k.kind.padEnd(8)} ${k.cpuUsMedian.toFixed(2).padStart(7)} µs CPU per call (rounds ${k.cpuUsPerRound.map((x) => x.toFixed(2)).join(' ')})`,
    );
  }
  return result;
}

/** Throws unless the answer shows the cost policy spending the deep query's estimate. */
export function assertCostPolicyApplied(status: number, headers: Headers): void {
  const policy = headers.get('ratelimit-policy') ?? '';
  const remaining = Number(/"points";r=(\d+)/.exec(headers.get('ratelimit') ?? '')?.[1]);
  if (status !== 200 || !policy.includes(`"points";q=${costBenchLimit}`) || !(remaining < costBenchLimit - 20_000)) {
    throw new Error(
      `cost gateway: status ${status}, RateLimit-Policy ${policy}, RateLimit ${headers.get('ratelimit')}: the cost policy did not spend the estimate`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const settings = defaultPricingSettings();
  console.log(`Pricing the deep query; ${settings.rounds} rounds × ${settings.calls} calls per kind`);
  await measurePricing(settings, (message) => console.log(message));
}
