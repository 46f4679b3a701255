/**
 * The load and what is measured under it: autocannon with a unique header value per request,
 * rounds with a measurement window (only responses completed inside it count), CPU and RSS of
 * the gateway's processes at the window's edges.
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { cpuMs, rssMiB, type Running } from './gateways/contenders.js';
import { deepQueryBody } from './workload/query.js';

export interface PointResult {
  readonly contender: string;
  readonly connections: number;
  readonly requests: number;
  readonly durationSeconds: number;
  readonly rps: number;
  /** Requests/s in each round, in order. */
  readonly roundRps: readonly number[];
  /** Latency percentiles, ms. */
  readonly p50: number;
  readonly p99: number;
  /** Connection errors and timeouts. */
  readonly errors: number;
  readonly non2xx: number;
  readonly bytesPerResponse: number;
  readonly answerBytes: number;
  /** Highest resident memory sampled during the point (whole process tree), MiB. */
  readonly peakRssMiB: number;
  readonly gatewayCpuMsPerRequest: number;
  readonly subgraphCpuMsPerRequest: number;
  readonly loadgenCpuMsPerRequest: number;
  /** Subgraph requests per answered request under this load (fewer than the plan's when identical in-flight subgraph requests are merged). */
  readonly subgraphCallsPerRequest: number;
}

export interface RoundSettings {
  readonly rampSeconds: number;
  readonly windowSeconds: number;
  /** Headers for each request (`load`); none by default. */
  readonly requestHeaders?: RequestHeaders;
  /** The request body (`load`); default the deep query. */
  readonly body?: string;
}

/** Requests the subgraphs have received so far (all four together). */
export type SubgraphCallCounter = () => Promise<number>;

/** Headers added to each request in turn (a pool of bearer tokens), or none. */
export type RequestHeaders = () => Record<string, string>;

/**
 * autocannon against a gateway, every request with its own `x-bench-request` value, and with
 * `requestHeaders`' headers when given (asked again for every request); `body` is the deep query
 * unless given.
 */
export function load(url: string, connections: number, seconds: number, requestHeaders?: RequestHeaders, body: string = deepQueryBody) {
  return autocannon({
    url,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-bench-request': '[<id>]' },
    body,
    idReplacement: true,
    timeout: 30,
    ...(requestHeaders && {
      requests: [{ setupRequest: (request) => ({ ...request, headers: { ...request.headers, ...requestHeaders() } }) }],
    }),
  });
}

/** What one round saw inside its measurement window. */
export interface Window {
  readonly ms: number;
  readonly latencies: number[];
  readonly non2xx: number;
  readonly errors: number;
  readonly bytes: number;
  readonly gatewayCpuMs: number;
  readonly subgraphCpuMs: number;
  readonly loadgenCpuMs: number;
  readonly peakRssMiB: number;
  /** Requests the subgraphs received during the window (read a moment after each edge). */
  readonly subgraphCalls: number;
}

/**
 * One round: load for ramp + window, counting only the responses completed inside the window
 * (so neither the ramp-up nor the requests cut off at the end bias the rate), with the CPU time
 * of the gateway, the subgraphs (or other processes: `subgraphPid` may list several) and the load
 * generator read at the window's edges.
 */
export async function round(
  url: string,
  connections: number,
  pids: readonly number[],
  subgraphPid: number | readonly number[],
  settings: RoundSettings,
  subgraphCalls: SubgraphCallCounter = async () => 0,
): Promise<Window> {
  const rampMs = settings.rampSeconds * 1000;
  const windowMs = settings.windowSeconds * 1000;
  const latencies: number[] = [];
  let non2xx = 0;
  let errors = 0;
  let bytes = 0;
  let open = false;
  let peak = 0;
  const instance = load(url, connections, settings.rampSeconds + settings.windowSeconds + 0.3, settings.requestHeaders, settings.body);
  const emitter = instance as unknown as NodeJS.EventEmitter;
  emitter.on('response', (_client: unknown, status: number, responseBytes: number, responseTime: number) => {
    if (!open) return;
    if (status >= 200 && status < 300) latencies.push(responseTime);
    else non2xx++;
    bytes += responseBytes;
  });
  emitter.on('reqError', () => {
    if (open) errors++;
  });
  const edge = () => ({
    at: performance.now(),
    gateway: cpuMs(pids),
    subgraphs: cpuMs(typeof subgraphPid === 'number' ? [subgraphPid] : subgraphPid),
    self: process.cpuUsage(),
  });
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pids))), 200);
  const window = new Promise<Window>((resolve) => {
    setTimeout(() => {
      const from = edge();
      const callsFrom = subgraphCalls();
      open = true;
      peak = Math.max(peak, rssMiB(pids));
      setTimeout(async () => {
        open = false;
        const to = edge();
        const self = process.cpuUsage(from.self);
        const calls = (await subgraphCalls()) - (await callsFrom);
        resolve({
          subgraphCalls: calls,
          ms: to.at - from.at,
          latencies,
          non2xx,
          errors,
          bytes,
          gatewayCpuMs: to.gateway - from.gateway,
          subgraphCpuMs: to.subgraphs - from.subgraphs,
          loadgenCpuMs: (self.user + self.system) / 1000,
          peakRssMiB: Math.max(peak, rssMiB(pids)),
        });
      }, windowMs);
    }, rampMs);
  });
  const [result] = await Promise.all([window, instance]);
  clearInterval(sampler);
  return result;
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

export function summarize(running: Running, connections: number, windows: readonly Window[], answerBytes: number): PointResult {
  const latencies = windows.flatMap((w) => w.latencies).sort((a, b) => a - b);
  const ms = windows.reduce((sum, w) => sum + w.ms, 0);
  const completed = latencies.length + windows.reduce((sum, w) => sum + w.non2xx, 0);
  const sum = (key: 'gatewayCpuMs' | 'subgraphCpuMs' | 'loadgenCpuMs' | 'bytes' | 'non2xx' | 'errors' | 'subgraphCalls') =>
    windows.reduce((total, w) => total + w[key], 0);
  const perRequest = (value: number) => (completed > 0 ? value / completed : 0);
  return {
    contender: running.contender.id,
    connections,
    requests: completed,
    durationSeconds: ms / 1000,
    rps: (completed / ms) * 1000,
    roundRps: windows.map((w) => ((w.latencies.length + w.non2xx) / w.ms) * 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors: sum('errors'),
    non2xx: sum('non2xx'),
    bytesPerResponse: perRequest(sum('bytes')),
    answerBytes,
    peakRssMiB: Math.max(...windows.map((w) => w.peakRssMiB)),
    gatewayCpuMsPerRequest: perRequest(sum('gatewayCpuMs')),
    subgraphCpuMsPerRequest: perRequest(sum('subgraphCpuMs')),
    loadgenCpuMsPerRequest: perRequest(sum('loadgenCpuMs')),
    subgraphCallsPerRequest: perRequest(sum('subgraphCalls')),
  };
}
