/**
 * Tollgate's Worker against the bare Worker, in workerd, paired: the built bundle (dist/worker,
 * `npm run build:worker`) with the configuration of wrangler.toml (production, rate limiting on
 * with the in-memory store, request log lines at info) against `export default { fetch }` around
 * one reused `createGatewayRuntime` (bench/gateways/bare-worker.ts, bundled into dist/bench-worker),
 * both served by Miniflare on a loopback port as the Worker tests load them, both answering the
 * demo query from the demo subgraphs over HTTP (their own process, bench/gateways/demo-subgraphs.ts)
 * with the same supergraph (upstream deduplication off, as in every benchmark: bench/workload/transport.ts).
 * The windows alternate as in every paired comparison (bench/paired.ts).
 *
 * CPU per request is the workerd process's, read from /proc (user + system) at each window's
 * edges: from inside, the Worker's clock stands still between I/O and cannot measure it.
 *
 * `npm run bench -- --only worker` runs this pair alone (bench/run.ts); `npm run bench:ab --
 * worker bare-worker` runs it with the A/B runner's options (`worker%LOG_LEVEL=warn`: a binding
 * changed; `worker@/path/to/checkout`: that checkout's dist/worker).
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { freePort, post, processTree, type Running } from './gateways/contenders.js';
import type { PairedResult, Side } from './paired.js';

/** The demo query (as bench/lifecycle.ts sends it): three subgraphs, a small answer. */
export const demoQueryBody = JSON.stringify({ query: '{ topProducts { name price reviews { body author { name } } } }' });

export interface DemoSubgraphProcess {
  readonly child: ChildProcess;
  readonly supergraphSdl: string;
  close(): void;
}

/** The demo subgraphs in a child process of their own (bench/gateways/demo-subgraphs.ts, built into dist/bench). */
export async function startDemoSubgraphProcess(root: string): Promise<DemoSubgraphProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-demo-'));
  const path = join(dir, 'supergraph.graphql');
  const child = fork(join(root, 'dist/bench/bench/gateways/demo-subgraphs.js'), [path], {
    env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`demo subgraphs exited with ${code}`)));
    });
    return { child, supergraphSdl: readFileSync(path, 'utf8'), close: () => child.disconnect() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The Worker contenders' ids, for the A/B runner and the report. */
export const workerContenders = {
  worker: "Tollgate's Worker (dist/worker), wrangler.toml's configuration",
  'bare-worker': 'Bare Worker (one reused createGatewayRuntime)',
} as const;
export type WorkerContenderId = keyof typeof workerContenders;

export const isWorkerContender = (id: string): id is WorkerContenderId => Object.hasOwn(workerContenders, id);

/** wrangler.toml's compatibility date and `[vars]` (the deployed Worker's configuration). */
export function wranglerSettings(root: string): { compatibilityDate: string; vars: Record<string, string> } {
  const text = readFileSync(join(root, 'wrangler.toml'), 'utf8');
  const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(text)?.[1];
  if (!compatibilityDate) throw new Error('wrangler.toml: no compatibility_date');
  const vars: Record<string, string> = {};
  let inVars = false;
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('[')) inVars = trimmed === '[vars]';
    const match = inVars ? /^([A-Z0-9_]+)\s*=\s*"([^"]*)"/.exec(trimmed) : null;
    if (match) vars[match[1]!] = match[2]!;
  }
  return { compatibilityDate, vars };
}

/** Bundles the bare Worker into dist/bench-worker (`wrangler deploy --dry-run`). */
export function buildBareWorker(root: string): void {
  const result = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules/wrangler/bin/wrangler.js'),
      'deploy',
      '--dry-run',
      '--config',
      join(root, 'bench/gateways/bare-worker.wrangler.toml'),
      '--outdir',
      join(root, 'dist/bench-worker'),
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
  );
  if (result.status !== 0) throw new Error(`bundling the bare Worker failed (${result.status})`);
}

const workerdPids = (): number[] =>
  processTree(process.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'workerd';
    } catch {
      return false;
    }
  });

interface WorkerdOptions {
  readonly id: string;
  readonly label: string;
  /** The bundle's directory and its entry module's file name; `.graphql` files beside it are text modules. */
  readonly dir: string;
  readonly entry: string;
  readonly compatibilityDate: string;
  readonly bindings: Record<string, string>;
  /** Miniflare's inspector (Chrome DevTools protocol) on this port, for profiling. */
  readonly inspectorPort?: number;
}

/**
 * Serves a bundle in its own workerd (Miniflare) on a free loopback port, and waits for its
 * first answer to `body`. `pid` is the workerd process, measured from outside.
 */
export async function startWorkerd(options: WorkerdOptions, body: string, timeoutMs = 60_000): Promise<Running> {
  const entry = join(options.dir, options.entry);
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build it first`);
  const port = await freePort();
  const before = new Set(workerdPids());
  let tail = '';
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: '127.0.0.1',
      port,
      ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
      modulesRoot: options.dir,
      modules: [
        { type: 'ESModule', path: entry },
        ...readdirSync(options.dir)
          .filter((file) => file.endsWith('.graphql'))
          .map((file) => ({ type: 'Text' as const, path: join(options.dir, file) })),
      ],
      compatibilityDate: options.compatibilityDate,
      compatibilityFlags: ['nodejs_compat'],
      bindings: options.bindings,
      // A fixed `request.cf`, as Cloudflare's edge sets it (test/support/worker.ts says why).
      cf: { colo: 'TST', country: 'XX', asn: 64496 },
      // The Worker's lines are written by workerd (its CPU counts) and kept here only as a tail.
      handleStructuredLogs: ({ message }) => void (tail = `${tail}${message}\n`.slice(-4000)),
    }),
  );
  const started = performance.now();
  try {
    const base = await mf.ready;
    const pid = workerdPids().find((p) => !before.has(p));
    if (pid === undefined) throw new Error(`${options.id}: workerd's process not found`);
    const url = new URL('/graphql', base).href;
    for (;;) {
      const { status, text } = await post(url, body).catch((error: unknown) => ({ status: 0, text: String(error) }));
      if (status === 200 && text.includes('"data":{')) {
        return {
          contender: {
            id: options.id,
            label: options.label,
            launch: () => {
              throw new Error('a Worker is started by bench/worker.ts');
            },
          },
          url,
          pid,
          coldStartMs: performance.now() - started,
          firstAnswer: text,
          output: () => tail,
          stop: () => mf.dispose(),
        };
      }
      if (performance.now() - started > timeoutMs)
        throw new Error(`${options.id} did not answer (${status}): ${text.slice(0, 300)}\n${tail}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await mf.dispose();
    throw error;
  }
}

export interface WorkerSideOptions {
  /** The checkout whose build is served (dist/worker, dist/bench-worker). */
  readonly root: string;
  /** The supergraph served over HTTP (Tollgate's `SUPERGRAPH`), and its text (the bare Worker's binding). */
  readonly supergraphUrl: string;
  readonly supergraphSdl: string;
  /** Bindings added to (or replacing) wrangler.toml's on Tollgate's side. */
  readonly bindings?: Record<string, string>;
  /** The id the pair reports (default the contender's). */
  readonly id?: string;
  readonly rateLimitMax: number;
}

/** One Worker contender as a side of a paired comparison (bench/paired.ts). */
export function workerSide(contender: WorkerContenderId, options: WorkerSideOptions): Side {
  const { compatibilityDate, vars } = wranglerSettings(options.root);
  const id = options.id ?? contender;
  const label = workerContenders[contender];
  if (contender === 'bare-worker') {
    return {
      id,
      start: (body) =>
        startWorkerd(
          {
            id,
            label,
            dir: join(options.root, 'dist/bench-worker'),
            entry: 'bare-worker.js',
            compatibilityDate,
            bindings: { SUPERGRAPH_SDL: options.supergraphSdl, ...options.bindings },
          },
          body,
        ),
    };
  }
  const bindings = {
    ...vars,
    SUPERGRAPH: options.supergraphUrl,
    // Loopback subgraphs, which a deployed Worker refuses unless told otherwise.
    ALLOW_PRIVATE_SUBGRAPHS: 'true',
    // Above the run's request count: every request is decided, none rejected.
    RATE_LIMIT_MAX_REQUESTS: String(options.rateLimitMax),
    ...options.bindings,
  };
  return {
    id,
    start: (body) =>
      startWorkerd({ id, label, dir: join(options.root, 'dist/worker'), entry: 'index.js', compatibilityDate, bindings }, body),
  };
}

/** A Worker's CPU profile in workerd, summed (bench/workerProfile.ts). */
export interface WorkerProfile {
  readonly spec: string;
  readonly requests: number;
  readonly seconds: number;
  /** Sampled (non-idle) time of the isolate's thread per request, ms. */
  readonly busyMsPerRequest: number;
  /** ms per request by package or file, with the builtins it called, largest first. */
  readonly byPart: readonly { readonly part: string; readonly ms: number }[];
  /** ms per request by function (self time), largest first. */
  readonly functions: readonly { readonly name: string; readonly ms: number }[];
}

/** The pair as BENCHMARKS.md shows it: its section, generated from the result (and the two sides' profiles, when taken). */
export function workerSection(
  result: PairedResult,
  settings: { readonly windowSeconds: number; readonly rampSeconds: number; readonly warmupSeconds: number },
  vars: Record<string, string>,
  profiles?: { readonly tollgate: WorkerProfile; readonly bare: WorkerProfile },
  load?: { readonly before: readonly number[]; readonly after: readonly number[] },
): string[] {
  const median = (xs: readonly number[]) => {
    const sorted = [...xs].filter(Number.isFinite).sort((x, y) => x - y);
    return sorted.length === 0 ? NaN : sorted[Math.floor((sorted.length - 1) / 2)]! / 2 + sorted[Math.ceil((sorted.length - 1) / 2)]! / 2;
  };
  const fx = (r: number) => `${r.toFixed(2)}×`;
  const a = result.sides?.a ?? [];
  const b = result.sides?.b ?? [];
  const shown = Object.entries(vars)
    .filter(([name]) => name !== 'RATE_LIMIT_MAX_REQUESTS')
    .map(([name, value]) => `${name}=${value}`)
    .join(', ');
  return [
    '## Worker against the bare Worker',
    '',
    `Tollgate's built Worker bundle (dist/worker, \`npm run build:worker\`) against a bare Worker: \`export default { fetch }\` around one \`createGatewayRuntime\` created on the first request and reused (bench/gateways/bare-worker.ts, bundled the same way), each in its own workerd started by Miniflare and served on a loopback port, both on the same three demo subgraphs over HTTP (their own Node process) and the same supergraph, answering the demo query \`{ topProducts { name price reviews { body author { name } } } }\` (5 products with their reviews and authors, 3 subgraph calls); as in every benchmark here, upstream deduplication is off for both, so every request makes every call, and the subgraphs answer from a memo after the first request (bench/gateways/demo-subgraphs.ts). Tollgate runs wrangler.toml's configuration (${shown}; RATE_LIMIT_MAX_REQUESTS above the run's request count), so rate limiting decides every request in the in-memory store and every request writes its log line; its supergraph comes from \`SUPERGRAPH\` (a loopback URL, ALLOW_PRIVATE_SUBGRAPHS=true), the bare Worker's as a text binding. Both use the runtime's JavaScript planner, the only one on Workers. ${result.pairs} pairs of ${settings.windowSeconds} s windows (after a ${settings.rampSeconds} s ramp) at ${result.connections} connections, the order swapped every pair, over ${result.starts ?? 1} fresh starts of both, each start loading both at once for ${settings.warmupSeconds} s first. CPU per request is the workerd process's (user + system from /proc at the window's edges, so it includes workerd's HTTP and Miniflare's entry worker, alike for both): inside workerd the clock stands still between I/O. \`npm run bench -- --only worker\` runs this section alone.${load ? ` The machine's load average (1, 5, 15 min) was ${load.before.map((l) => l.toFixed(2)).join(' ')} before and ${load.after.map((l) => l.toFixed(2)).join(' ')} after, on ${availableParallelism()} cores: the spread of the pairs is the sharing of the cores with other work.` : ''}`,
    '',
    '| Tollgate / the bare Worker | median req/s ratio | middle half | median CPU-per-request ratio | workerd CPU ms/request (Tollgate / bare, medians) | req/s (medians) | every pair (req/s ratio) |',
    '|---|---:|---:|---:|---:|---:|---|',
    `| ${workerContenders.worker} / ${workerContenders['bare-worker']} | **${fx(result.median)}** | ${fx(result.q1)}–${fx(result.q3)} | ${fx(result.cpuMedian)} | ${median(a.map((w) => w.cpu)).toFixed(2)} / ${median(b.map((w) => w.cpu)).toFixed(2)} | ${median(a.map((w) => w.rps)).toFixed(0)} / ${median(b.map((w) => w.rps)).toFixed(0)} | ${result.ratios.map((r) => r.toFixed(2)).join(' ')} |`,
    '',
    ...(profiles ? profileLines(profiles) : []),
  ];
}

/** The two profiles side by side: the parts that differ most, and Tollgate's own files. */
function profileLines(profiles: { readonly tollgate: WorkerProfile; readonly bare: WorkerProfile }): string[] {
  const { tollgate, bare } = profiles;
  const msOf = (profile: WorkerProfile, part: string) => profile.byPart.find((p) => p.part === part)?.ms ?? 0;
  const parts = [...new Set([...tollgate.byPart, ...bare.byPart].map((p) => p.part))].filter((part) => !part.startsWith('src/'));
  const rows = parts
    .map((part) => ({ part, t: msOf(tollgate, part), b: msOf(bare, part) }))
    .filter((row) => row.t >= 0.05 || row.b >= 0.05)
    .sort((x, y) => Math.abs(y.t - y.b) - Math.abs(x.t - x.b))
    .slice(0, 14);
  const own = tollgate.byPart.filter((p) => p.part.startsWith('src/'));
  const ownMs = own.reduce((sum, p) => sum + p.ms, 0);
  return [
    `Where the difference goes: each side profiled alone through workerd's inspector (bench/workerProfile.ts; \`npx tsx bench/worker-profile.ts\` prints more), ${tollgate.seconds} s at 10 connections after a warm-up, samples summed by source through the bundle's source map, each part with the builtins it called (workerd's Request, Headers, URL, JSON, console and timers have no source of their own). The profiler slows the isolate down (sampled ms per request here are larger than the unprofiled CPU per request above), and one profile's parts move by a few hundredths of a ms from run to run: read the differences, not the decimals. Sampled per request: Tollgate ${tollgate.busyMsPerRequest.toFixed(2)} ms, the bare Worker ${bare.busyMsPerRequest.toFixed(2)} ms.`,
    '',
    '| part (ms per request, with the builtins it called) | bare Worker | Tollgate | difference |',
    '|---|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${row.part} | ${row.b.toFixed(3)} | ${row.t.toFixed(3)} | ${(row.t - row.b >= 0 ? '+' : '') + (row.t - row.b).toFixed(3)} |`,
    ),
    `| Tollgate's own code (src/), all files | – | ${ownMs.toFixed(3)} | +${ownMs.toFixed(3)} |`,
    '',
    `Tollgate's own code by file (ms per request): ${own
      .slice(0, 12)
      .map((p) => `${p.part} ${p.ms.toFixed(3)}`)
      .join(
        ', ',
      )}. Under the inspector every \`console.log\` is also sent to it, so src/log.ts (the request's log line) weighs more here than unprofiled. src/gateway/upstreamDeadline.ts is Tollgate's subgraph deadline (UPSTREAM_TIMEOUT_MS: one timer and signal for a request's calls; the bare Worker has none) with the subgraph \`fetch\` it wraps, which workerd runs natively: in the bare Worker that \`fetch\` is counted in the runtime's and the HTTP executor's rows.`,
    '',
  ];
}
