/**
 * The gateways the benchmark compares, each started as its own child process on a free loopback
 * port with the supergraph file, and the process bookkeeping around them (cold start, RSS, CPU).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { costPoliciesJson } from '../workload/cost.js';
import { benchJwtSecret, threePoliciesJson } from '../workload/identity.js';

export interface BenchContext {
  /** The repository root. */
  readonly root: string;
  /**
   * The supergraph for the Hive-runtime gateways: by default without upstream deduplication
   * (bench/workload/transport.ts), so every gateway makes every subgraph call, as Apollo does.
   */
  readonly supergraphPath: string;
  /** The supergraph as composed: Apollo Gateway's, and the reference row with deduplication on. */
  readonly plainSupergraphPath: string;
  /** A scratch directory for this run (the Hive CLI's working directory). */
  readonly runDir: string;
  readonly redisUrl: string;
  /** Unique per run: the shared Redis is never flushed. */
  readonly redisKeyPrefix: string;
  /** Above the run's request count, so rate limiting decides every request and rejects none. */
  readonly rateLimitMax: number;
  readonly clusterWorkers: number;
}

export interface Contender {
  readonly id: string;
  readonly label: string;
  /** Left out of `npm run bench` unless named in BENCH_ONLY. */
  readonly optional?: boolean;
  /** Command line and environment (merged over a minimal PATH/HOME/NODE_ENV=production). */
  launch(ctx: BenchContext, port: number): { args: string[]; env: Record<string, string>; cwd?: string };
}

const benchEntry = (ctx: BenchContext, name: string) => join(ctx.root, 'dist/bench/bench/gateways', `${name}.js`);
const tollgateMain = (ctx: BenchContext) => join(ctx.root, 'dist/node/main.js');
const hiveCli = (ctx: BenchContext) => join(ctx.root, 'node_modules/@graphql-hive/gateway/dist/bin.js');

function tollgateEnv(ctx: BenchContext, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SUPERGRAPH: ctx.supergraphPath,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ENVIRONMENT: 'production',
    GATEWAY_LIFECYCLE: 'isolate',
    // Explicit: Node's default is the Rust planner; the rows without "Rust" are the JavaScript one's.
    QUERY_PLANNER: 'js',
    RATE_LIMIT_MAX_REQUESTS: String(ctx.rateLimitMax),
    ...extra,
  };
}

const redis = (ctx: BenchContext) => ({ REDIS_URL: ctx.redisUrl, REDIS_KEY_PREFIX: ctx.redisKeyPrefix });

export const contenders: readonly Contender[] = [
  {
    id: 'bare',
    label: 'Bare runtime (JS planner)',
    launch: (ctx, port) => ({
      args: [benchEntry(ctx, 'bare-runtime')],
      env: { SUPERGRAPH: ctx.supergraphPath, PORT: String(port), HOST: '127.0.0.1', QUERY_PLANNER: 'js' },
    }),
  },
  {
    id: 'bare-rust',
    label: 'Bare runtime (Rust planner)',
    launch: (ctx, port) => ({
      args: [benchEntry(ctx, 'bare-runtime')],
      env: { SUPERGRAPH: ctx.supergraphPath, PORT: String(port), HOST: '127.0.0.1', QUERY_PLANNER: 'rust' },
    }),
  },
  {
    id: 'bare-dedupe',
    label: 'Bare runtime, upstream dedupe on',
    optional: true,
    launch: (ctx, port) => ({
      args: [benchEntry(ctx, 'bare-runtime')],
      env: { SUPERGRAPH: ctx.plainSupergraphPath, PORT: String(port), HOST: '127.0.0.1', QUERY_PLANNER: 'js' },
    }),
  },
  {
    id: 'tollgate-memory',
    label: 'Tollgate, isolate, in-memory store',
    launch: (ctx, port) => ({ args: [tollgateMain(ctx)], env: tollgateEnv(ctx, port) }),
  },
  {
    id: 'tollgate-redis',
    label: 'Tollgate, isolate, Redis store',
    launch: (ctx, port) => ({ args: [tollgateMain(ctx)], env: tollgateEnv(ctx, port, redis(ctx)) }),
  },
  {
    id: 'tollgate-request',
    label: 'Tollgate, request lifecycle, in-memory',
    launch: (ctx, port) => ({ args: [tollgateMain(ctx)], env: tollgateEnv(ctx, port, { GATEWAY_LIFECYCLE: 'request' }) }),
  },
  {
    id: 'hive',
    label: 'Hive Gateway CLI',
    launch: (ctx, port) => ({
      args: [hiveCli(ctx), 'supergraph', ctx.supergraphPath, '--host', '127.0.0.1', '--port', String(port), '--fork', '1'],
      env: { LOG_LEVEL: 'warn' },
      cwd: ctx.runDir,
    }),
  },
  {
    id: 'apollo',
    label: 'Apollo Gateway',
    launch: (ctx, port) => ({
      args: [benchEntry(ctx, 'apollo')],
      env: { SUPERGRAPH: ctx.plainSupergraphPath, PORT: String(port), HOST: '127.0.0.1' },
    }),
  },
  {
    id: 'tollgate-rust',
    label: "Tollgate, isolate, in-memory, Rust planner (Node's default)",
    launch: (ctx, port) => ({
      args: [tollgateMain(ctx)],
      env: tollgateEnv(ctx, port, { QUERY_PLANNER: 'rust' }),
    }),
  },
  {
    id: 'tollgate-rust-redis',
    label: 'Tollgate, isolate, Redis store, Rust planner',
    launch: (ctx, port) => ({
      args: [tollgateMain(ctx)],
      env: tollgateEnv(ctx, port, { ...redis(ctx), QUERY_PLANNER: 'rust' }),
    }),
  },
  {
    // Identity and policies: tokens verified (HS256), three policies in two store calls per request.
    id: 'tollgate-rust-identity',
    label: 'Tollgate, Rust planner, RATE_LIMIT_IDENTITY=jwt,ip, three policies (in-memory)',
    optional: true,
    launch: (ctx, port) => ({
      args: [tollgateMain(ctx)],
      env: tollgateEnv(ctx, port, {
        QUERY_PLANNER: 'rust',
        RATE_LIMIT_IDENTITY: 'jwt,ip',
        JWT_SECRET: benchJwtSecret,
        JWT_TIER_CLAIM: 'tier',
        RATE_LIMIT_POLICIES: threePoliciesJson,
      }),
    }),
  },
  {
    // Query cost: every operation priced before the rate limit and its estimate spent from a bucket.
    id: 'tollgate-rust-cost',
    label: 'Tollgate, Rust planner, a cost policy beside the default (in-memory)',
    optional: true,
    launch: (ctx, port) => ({
      args: [tollgateMain(ctx)],
      env: tollgateEnv(ctx, port, { QUERY_PLANNER: 'rust', RATE_LIMIT_POLICIES: costPoliciesJson }),
    }),
  },
  {
    id: 'hive-rust',
    label: 'Hive Gateway CLI, Rust planner',
    launch: (ctx, port) => ({
      args: [
        hiveCli(ctx),
        'supergraph',
        ctx.supergraphPath,
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--fork',
        '1',
        '--hive-router-runtime',
      ],
      env: { LOG_LEVEL: 'warn' },
      cwd: ctx.runDir,
    }),
  },
  {
    id: 'tollgate-cluster',
    label: 'Tollgate cluster (1 per core), Redis, Rust planner',
    launch: (ctx, port) => ({
      args: [join(ctx.root, 'dist/node/cluster.js')],
      env: tollgateEnv(ctx, port, { ...redis(ctx), QUERY_PLANNER: 'rust', CLUSTER_WORKERS: String(ctx.clusterWorkers) }),
    }),
  },
];

export interface Running {
  readonly contender: Contender;
  readonly url: string;
  readonly pid: number;
  /** Process start to the first answered deep query, ms. */
  readonly coldStartMs: number;
  /** The first answer's body. */
  readonly firstAnswer: string;
  /** The last lines the process wrote (for error messages). */
  output(): string;
  stop(): Promise<void>;
}

/** A free loopback port (bound and released; the child binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** POSTs the body to the gateway; resolves with the status and text. */
export async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body,
  });
  return { status: response.status, text: await response.text() };
}

/**
 * Starts a contender and waits for its first answer to `body` (status 200, `data` present),
 * which is the cold start: process spawn to first answered query.
 */
export async function start(
  contender: Contender,
  ctx: BenchContext,
  body: string,
  options: { nodeArgs?: string[]; timeoutMs?: number } = {},
): Promise<Running> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const port = await freePort();
  const { args, env, cwd } = contender.launch(ctx, port);
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeArgs ?? []), ...args], {
    cwd: cwd ?? ctx.root,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = `exited with ${signal ?? code}`;
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${port}/graphql`;
  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const killed = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(killed);
  };
  for (;;) {
    if (exited) throw new Error(`${contender.id} ${exited} before answering:\n${tail}`);
    if (performance.now() - started > timeoutMs) {
      await stop();
      throw new Error(`${contender.id} did not answer within ${timeoutMs} ms:\n${tail}`);
    }
    try {
      const { status, text } = await post(url, body);
      if (status === 200 && text.includes('"data":{')) {
        return { contender, url, pid: child.pid!, coldStartMs: performance.now() - started, firstAnswer: text, output: () => tail, stop };
      }
      if (status !== 200 && status !== 503 && status !== 404) throw new Error(`status ${status}: ${text.slice(0, 500)}`);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('status')) {
        await stop();
        throw new Error(`${contender.id} answered ${error.message}\n${tail}`);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

// ---- /proc bookkeeping (Linux) -----------------------------------------------------------------

/** The pid and its descendants (a cluster's workers). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // Gone meanwhile.
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resident memory of the processes, summed, in MiB. */
export const rssMiB = (pids: readonly number[]) => pids.reduce((sum, pid) => sum + statusKb(pid, 'VmRSS'), 0) / 1024;
/** Peak resident memory (VmHWM) of the processes, summed, in MiB. */
export const peakRssMiB = (pids: readonly number[]) => pids.reduce((sum, pid) => sum + statusKb(pid, 'VmHWM'), 0) / 1024;

const ticksPerSecond = 100;
/** CPU time (user + system) the processes have used, in ms. */
export function cpuMs(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // Gone meanwhile.
    }
  }
  return (ticks / ticksPerSecond) * 1000;
}

export const procAvailable = () => existsSync('/proc/self/status');
