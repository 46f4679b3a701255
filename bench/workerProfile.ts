/**
 * Where a Worker's CPU time goes in workerd: one Worker contender (bench/worker.ts) under the
 * Worker pair's load, profiled through workerd's inspector (Miniflare's `inspectorPort`, the Chrome
 * DevTools protocol's `Profiler`), its samples summed by source through the bundle's source map:
 * by package (node_modules/<pkg>) or Tollgate's own file (src/…), each with the builtins it called
 * (Request, Headers, URL, JSON, console, timers: workerd's own code has no source), and by
 * function. Per request, so two contenders compare. The profiler slows the isolate down, alike for
 * both; its per-request figures are larger than the unprofiled CPU per request.
 *
 * Used by `npm run bench` (the Worker section) and bench/worker-profile.ts.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { freePort } from './gateways/contenders.js';
import { load } from './measure.js';
import { demoQueryBody, isWorkerContender, startWorkerd, workerContenders, wranglerSettings, type WorkerProfile } from './worker.js';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}
interface Profile {
  readonly nodes: readonly { id: number; callFrame: CallFrame; children?: number[] }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const base64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A source map's mappings, per generated line: [column, source index] pairs in column order. */
function decodeMappings(map: { mappings: string }): number[][][] {
  const lines: number[][][] = [];
  let source = 0;
  for (const line of map.mappings.split(';')) {
    const segments: number[][] = [];
    let column = 0;
    for (const segment of line.split(',')) {
      if (segment === '') continue;
      const values: number[] = [];
      let value = 0;
      let shift = 0;
      for (const char of segment) {
        const digit = base64.indexOf(char);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >> 1) : value >> 1);
          value = 0;
          shift = 0;
        }
      }
      column += values[0]!;
      if (values.length > 1) source += values[1]!;
      segments.push([column, source]);
    }
    lines.push(segments);
  }
  return lines;
}

/** The source of a generated (0-based) line and column. */
function sourceAt(lines: number[][][], sources: readonly string[], line: number, column: number): string {
  const segments = lines[line] ?? [];
  let found: number | undefined;
  for (const [col, src] of segments) {
    if (col! > column) break;
    found = src;
  }
  return found === undefined ? '(unmapped)' : sources[found]!;
}

function partOf(source: string): string {
  const at = source.lastIndexOf('node_modules/');
  if (at >= 0) {
    const rest = source.slice(at + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const src = source.indexOf('src/');
  if (src >= 0) return source.slice(src);
  return source.replace(/^(\.\.\/)+/, '');
}

/**
 * Profiles the Worker contender `spec` (`worker`, `bare-worker`, with `%NAME=value` bindings and
 * `@checkout`) for `seconds` at 10 connections on the demo query, after an 8 s warm-up.
 */
export async function profileWorker(
  spec: string,
  seconds: number,
  root: string,
  supergraph: { url: string; sdl: string },
): Promise<WorkerProfile> {
  const [head, settingList] = spec.split('%') as [string, string | undefined];
  const [id, dir] = head.split('@') as [string, string | undefined];
  if (!isWorkerContender(id)) throw new Error(`${id}: one of ${Object.keys(workerContenders).join(', ')}`);
  const checkout = dir ? resolve(dir) : root;
  const { compatibilityDate, vars } = wranglerSettings(checkout);
  const extra = Object.fromEntries(
    (settingList?.split(',').filter(Boolean) ?? []).map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)]),
  );
  const inspectorPort = await freePort();
  const isTollgate = id === 'worker';
  const bundleDir = join(checkout, isTollgate ? 'dist/worker' : 'dist/bench-worker');
  const entry = isTollgate ? 'index.js' : 'bare-worker.js';
  const running = await startWorkerd(
    {
      id: spec,
      label: workerContenders[id],
      dir: bundleDir,
      entry,
      compatibilityDate,
      inspectorPort,
      bindings: isTollgate
        ? { ...vars, SUPERGRAPH: supergraph.url, ALLOW_PRIVATE_SUBGRAPHS: 'true', RATE_LIMIT_MAX_REQUESTS: '1000000000', ...extra }
        : { SUPERGRAPH_SDL: supergraph.sdl, ...extra },
    },
    demoQueryBody,
  );
  try {
    await load(running.url, 10, 8, undefined, demoQueryBody); // warm-up
    const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as {
      webSocketDebuggerUrl: string;
      title?: string;
    }[];
    const target = targets.find((t) => !/^core:/.test(t.title ?? '')) ?? targets[0]!;
    const ws = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise((ok, fail) => ws.once('open', ok).once('error', fail));
    let nextId = 1;
    const pending = new Map<number, (result: unknown) => void>();
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as { id?: number; result?: unknown };
      if (message.id !== undefined) pending.get(message.id)?.(message.result);
    });
    const send = (method: string, params: Record<string, unknown> = {}) =>
      new Promise<unknown>((ok) => {
        const at = nextId++;
        pending.set(at, ok);
        ws.send(JSON.stringify({ id: at, method, params }));
      });
    await send('Profiler.enable');
    await send('Profiler.setSamplingInterval', { interval: 200 });
    await send('Profiler.start');
    const result = await load(running.url, 10, seconds, undefined, demoQueryBody);
    const { profile } = (await send('Profiler.stop')) as { profile: Profile };
    ws.close();
    const requests = result.requests.total;

    const map = JSON.parse(readFileSync(join(bundleDir, `${entry}.map`), 'utf8')) as { mappings: string; sources: string[] };
    const lines = decodeMappings(map);
    const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    const parentOf = new Map<number, number>();
    for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);
    const mapped = (frame: CallFrame) => frame.url.endsWith(entry) && frame.lineNumber >= 0;
    const partOfFrame = (frame: CallFrame) => partOf(sourceAt(lines, map.sources, frame.lineNumber, frame.columnNumber));
    const selfUs = new Map<number, number>();
    for (const [i, node] of profile.samples.entries()) selfUs.set(node, (selfUs.get(node) ?? 0) + (profile.timeDeltas[i] ?? 0));
    /** Self time plus the builtins (Request, Headers, JSON, console, timers, …) a part called. */
    const withBuiltins = new Map<string, number>();
    const byFunction = new Map<string, number>();
    let busy = 0;
    for (const [node, us] of selfUs) {
      const frame = byId.get(node)!;
      if (frame.functionName === '(idle)') continue;
      busy += us;
      const part =
        frame.url.endsWith(entry) && frame.lineNumber >= 0
          ? partOf(sourceAt(lines, map.sources, frame.lineNumber, frame.columnNumber))
          : frame.url === ''
            ? frame.functionName.startsWith('(')
              ? frame.functionName
              : '(builtins)'
            : frame.url;
      let caller: number | undefined = node;
      while (caller !== undefined && !mapped(byId.get(caller)!)) caller = parentOf.get(caller);
      const owner = caller === undefined ? part : partOfFrame(byId.get(caller)!);
      withBuiltins.set(owner, (withBuiltins.get(owner) ?? 0) + us);
      const fn = `${frame.functionName || '(anonymous)'} ${part}:${frame.lineNumber + 1}`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    }
    const perRequest = (us: number) => us / 1000 / requests;
    const sorted = (m: Map<string, number>) => [...m].sort((x, y) => y[1] - x[1]);
    return {
      spec,
      requests,
      seconds,
      busyMsPerRequest: perRequest(busy),
      byPart: sorted(withBuiltins).map(([part, us]) => ({ part, ms: perRequest(us) })),
      functions: sorted(byFunction)
        .slice(0, 60)
        .map(([name, us]) => ({ name, ms: perRequest(us) })),
    };
  } finally {
    await running.stop();
  }
}
