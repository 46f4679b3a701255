/**
 * Paired A/B rounds for the targets' verdicts: Tollgate and the other gateway (the bare runtime
 * with the same planner, Hive Gateway's CLI, Apollo Gateway) take turns in short windows (the
 * order swapped every pair), and the figure is the median of the per-pair ratios. Two windows a couple of seconds apart see the same state of a shared, noisy
 * machine far more often than the main table's rounds, where eleven gateways take turns and a
 * gateway's windows are half a minute apart; the spread of the pair ratios is reported with it.
 *
 * The pairs are spread over several fresh starts of both processes, each warmed up first
 * (`measureFreshPairs`): one process's speed can stay several per cent off another's of the same
 * code for its whole life on this machine (in trial runs the same two gateways'
 * median pair ratio moved between 0.92 and 0.99 from one start to the next), so pairs from a
 * single start would measure that start.
 */
import { start, processTree, type BenchContext, type Contender, type Running } from './gateways/contenders.js';
import { load, round, type RequestHeaders } from './measure.js';

export interface PairedResult {
  /** The contender measured, and its baseline. */
  readonly a: string;
  readonly b: string;
  readonly connections: number;
  readonly pairs: number;
  /** Fresh starts of both processes the pairs were spread over. */
  readonly starts?: number;
  /** req/s of a over b, per pair, in order. */
  readonly ratios: readonly number[];
  /** CPU ms per request of a over b, per pair. */
  readonly cpuRatios: readonly number[];
  readonly median: number;
  readonly q1: number;
  readonly q3: number;
  readonly cpuMedian: number;
  /** Each side's own figures per pair (req/s, CPU ms per request), in order. */
  readonly sides?: { readonly a: readonly SideWindow[]; readonly b: readonly SideWindow[] };
}

/** What one side's window measured. */
export interface SideWindow {
  readonly rps: number;
  /** CPU ms per request of the side's process tree. */
  readonly cpu: number;
}

export interface PairedSettings {
  /** The request body (default the deep query). */
  readonly body?: string;
  readonly pairs: number;
  readonly connections: number;
  readonly rampSeconds: number;
  readonly windowSeconds: number;
  /** Headers for each request, the same for both sides (bench/measure.ts `load`). */
  readonly requestHeaders?: RequestHeaders;
}

/** The q-quantile of the values (linear between the nearest ranks). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}

export async function measurePair(a: Running, b: Running, subgraphPid: number, settings: PairedSettings): Promise<PairedResult> {
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  const sides = { a: [] as SideWindow[], b: [] as SideWindow[] };
  const window = async (r: Running): Promise<SideWindow> => {
    const w = await round(r.url, settings.connections, processTree(r.pid), subgraphPid, settings);
    const completed = w.latencies.length + w.non2xx;
    return { rps: (completed / w.ms) * 1000, cpu: completed > 0 ? w.gatewayCpuMs / completed : NaN };
  };
  for (let i = 0; i < settings.pairs; i++) {
    // Swapped every pair, so neither side always goes first.
    const [first, second] = i % 2 === 0 ? [a, b] : [b, a];
    const x = await window(first);
    const y = await window(second);
    const [wa, wb] = first === a ? [x, y] : [y, x];
    sides.a.push(wa);
    sides.b.push(wb);
    if (wb.rps > 0) ratios.push(wa.rps / wb.rps);
    if (wb.cpu > 0) cpuRatios.push(wa.cpu / wb.cpu);
  }
  return pairedResult(a.contender.id, b.contender.id, settings.connections, ratios, cpuRatios, undefined, sides);
}

/** The per-pair ratios and their medians and middle half. */
function pairedResult(
  a: string,
  b: string,
  connections: number,
  ratios: number[],
  cpuRatios: number[],
  starts?: number,
  sides?: PairedResult['sides'],
): PairedResult {
  return {
    a,
    b,
    connections,
    pairs: ratios.length,
    ...(starts === undefined ? {} : { starts }),
    ratios,
    cpuRatios,
    median: quantile(ratios, 0.5),
    q1: quantile(ratios, 0.25),
    q3: quantile(ratios, 0.75),
    cpuMedian: quantile(cpuRatios, 0.5),
    ...(sides === undefined ? {} : { sides }),
  };
}

/**
 * One side of a paired comparison: a contender and the checkout it runs from (its `ctx.root`),
 * started as a Node process; or anything else that starts itself and reports the process to
 * measure (a Worker in workerd: bench/worker.ts).
 */
export type Side =
  | { readonly contender: Contender; readonly ctx: BenchContext }
  | { readonly id: string; start(body: string): Promise<Running> };

const sideId = (side: Side): string => ('start' in side ? side.id : side.contender.id);
const startSide = (side: Side, body: string): Promise<Running> =>
  'start' in side ? side.start(body) : start(side.contender, side.ctx, body);

/**
 * Paired rounds over `starts` fresh starts of both sides: each start loads both at once for
 * `warmupSeconds` (not counted), then measures `settings.pairs` pairs, and stops them.
 * `onStart` sees each start's own result.
 *
 * The warm-up lets V8 optimise both gateways' hot code first: a long-running gateway is measured
 * at its steady speed, not while it is still being optimised.
 */
export async function measureFreshPairs(
  a: Side,
  b: Side,
  subgraphPid: number,
  settings: PairedSettings & { readonly starts: number; readonly warmupSeconds: number },
  body: string,
  onStart?: (result: PairedResult, index: number) => void,
): Promise<PairedResult> {
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  const sides = { a: [] as SideWindow[], b: [] as SideWindow[] };
  for (let i = 0; i < settings.starts; i++) {
    const ra = await startSide(a, body);
    let rb: Running | undefined;
    try {
      rb = await startSide(b, body);
      await Promise.all([ra, rb].map((r) => load(r.url, settings.connections, settings.warmupSeconds, settings.requestHeaders, body)));
      const result = await measurePair(ra, rb, subgraphPid, { ...settings, body });
      ratios.push(...result.ratios);
      cpuRatios.push(...result.cpuRatios);
      sides.a.push(...(result.sides?.a ?? []));
      sides.b.push(...(result.sides?.b ?? []));
      onStart?.(result, i);
    } finally {
      await Promise.all([ra.stop(), rb?.stop()]);
    }
  }
  return pairedResult(sideId(a), sideId(b), settings.connections, ratios, cpuRatios, settings.starts, sides);
}
