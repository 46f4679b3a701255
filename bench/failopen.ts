/**
 * Fail-open decisions under bursts, and the latency of a decision, before and after the store
 * deadline measured the store rather than the gateway's lag. "Before" is a build of the baseline
 * commit in a temporary git worktree (removed at the end); "after" is this checkout. Each side:
 * a private redis-server, two built gateway processes (each serving the demo subgraphs, as
 * `npm start` does), the default RATE_LIMIT_TIMEOUT_MS of 50 ms, all on loopback.
 *
 * - Bursts: 4 clients × 60 concurrent `topProducts → reviews → author → reviews` queries spread
 *   over both gateways, `BENCH_ROUNDS` times (default 20; fresh client addresses each round):
 *   decisions not made by the shared store (failed open, or the per-process fallback) per
 *   10,000, and clients that got more or less than their limit of 50.
 * - Latency: with a limit nobody reaches, `BENCH_SECONDS` (default 4) of closed-loop requests at
 *   1, 10 and 50 connections, the sides alternating `BENCH_REPEATS` times (default 3; medians);
 *   the decision's time is the gateway's `Server-Timing: ratelimit`. Decisions the per-process
 *   fallback made (no round trip) are counted beside it.
 *
 *   npx tsx bench/failopen.ts            (builds both; about 4 minutes)
 *   BENCH_BASELINE=77b1e3a BENCH_ROUNDS=40 npx tsx bench/failopen.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { burst, burstAgent, burstQuery, roundClients } from '../test/support/burst.js';
import { mainScript, startGatewayProcess, type GatewayProcess } from '../test/support/process.js';
import { startRedisServer } from '../test/support/redis-server.js';

const root = new URL('..', import.meta.url).pathname;
const baseline = process.env['BENCH_BASELINE'] ?? '77b1e3a';
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 20);
const seconds = Number(process.env['BENCH_SECONDS'] ?? 4);
const repeats = Number(process.env['BENCH_REPEATS'] ?? 3);
const connectionCounts = [1, 10, 50];
const clients = 4;
const perClient = 60;
const limit = 50;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function run(cwd: string, command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status})`);
}

/** The baseline commit checked out and built in a temporary worktree sharing this node_modules. */
function buildBaseline(): { script: string; remove(): void } {
  const dir = join(mkdtempSync(join(tmpdir(), 'tollgate-baseline-')), 'tree');
  run(root, 'git', ['worktree', 'add', '--detach', dir, baseline]);
  const remove = (): void => {
    spawnSync('git', ['worktree', 'remove', '--force', dir], { cwd: root, stdio: 'ignore' });
    rmSync(join(dir, '..'), { recursive: true, force: true });
  };
  try {
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    run(dir, process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
  } catch (error) {
    remove();
    throw error;
  }
  return { script: join(dir, 'dist/node/main.js'), remove };
}

interface Side {
  readonly name: string;
  readonly script: string;
}

/** Two gateway processes of `side` on a fresh private Redis; `fn` runs against them. */
async function withGateways<T>(side: Side, env: Record<string, string>, fn: (gateways: GatewayProcess[]) => Promise<T>): Promise<T> {
  const redis = await startRedisServer();
  const full = { TRUST_PROXY: '1', RATE_LIMIT_TIMEOUT_MS: '50', REDIS_URL: redis.url, ...env };
  const gateways = await Promise.all([
    startGatewayProcess(full, { script: side.script }),
    startGatewayProcess(full, { script: side.script }),
  ]);
  try {
    return await fn(gateways);
  } finally {
    await Promise.all(gateways.map((g) => g.stop()));
    await redis.stop();
  }
}

interface BurstFigures {
  readonly decisions: number;
  readonly unshared: Record<string, number>;
  readonly inexactClients: number;
  readonly allowedSeen: number[];
}

/** Rate-limit decisions in request lines, and those not made by the shared store, by kind. */
function countDecisions(lines: readonly Record<string, unknown>[]): { decisions: number; unshared: Record<string, number> } {
  const unshared: Record<string, number> = {};
  let decisions = 0;
  for (const line of lines) {
    const decision = line['rateLimitDecision'];
    if (typeof decision !== 'string') continue;
    decisions++;
    if (decision === 'failed_open' || decision.startsWith('fallback')) {
      const key = `${decision}${line['rateLimitCause'] ? `:${line['rateLimitCause']}` : ''}`;
      unshared[key] = (unshared[key] ?? 0) + 1;
    }
  }
  return { decisions, unshared };
}

async function bursts(side: Side): Promise<BurstFigures> {
  return withGateways(side, {}, async (gateways) => {
    const agent = burstAgent();
    let inexactClients = 0;
    const allowedSeen: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const result = await burst(
        gateways.map((g) => g.url),
        roundClients(round, clients),
        perClient,
        agent,
      );
      allowedSeen.push(...result.allowed);
      inexactClients += result.allowed.filter((n) => n !== limit).length;
    }
    agent.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200)); // the last request lines
    return { ...countDecisions(gateways.flatMap((g) => g.logs)), inexactClients, allowedSeen };
  });
}

/** The `ratelimit;dur=` of one request's Server-Timing, in ms. */
function post(url: string, body: string, agent: Agent, client: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = httpRequest(
      `${url}/graphql`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-forwarded-for': client },
      },
      (res) => {
        res.resume();
        res.once('end', () => {
          const timing = /ratelimit;dur=([\d.]+)/.exec(String(res.headers['server-timing'] ?? ''));
          resolve(res.statusCode === 200 && timing ? Number(timing[1]) : undefined);
        });
      },
    );
    req.once('error', () => resolve(undefined));
    req.end(body);
  });
}

interface LatencyPoint {
  readonly p50: number;
  readonly p99: number;
  readonly n: number;
  /** Decisions of the point not made by the shared store (which cost no round trip). */
  readonly unshared: number;
}

async function latency(side: Side): Promise<Map<number, LatencyPoint>> {
  return withGateways(side, { RATE_LIMIT_MAX_REQUESTS: '1000000000', LOG_LEVEL: 'info' }, async (gateways) => {
    const body = JSON.stringify({ query: burstQuery });
    const figures = new Map<number, LatencyPoint>();
    for (const connections of connectionCounts) {
      const linesBefore = gateways.map((g) => g.logs.length);
      const agent = new Agent({ keepAlive: true, maxSockets: connections });
      const durations: number[] = [];
      const end = performance.now() + seconds * 1000;
      await Promise.all(
        Array.from({ length: connections }, async (_, i) => {
          const url = gateways[i % gateways.length]!.url;
          while (performance.now() < end) {
            const ms = await post(url, body, agent, `198.19.${connections}.${i + 1}`);
            if (ms !== undefined) durations.push(ms);
          }
        }),
      );
      agent.destroy();
      durations.sort((a, b) => a - b);
      const at = (q: number): number => durations[Math.min(durations.length - 1, Math.floor(q * durations.length))]!;
      await new Promise((resolve) => setTimeout(resolve, 200)); // the last request lines
      const { unshared } = countDecisions(gateways.flatMap((g, i) => g.logs.slice(linesBefore[i])));
      const unsharedCount = Object.values(unshared).reduce((a, b) => a + b, 0);
      figures.set(connections, { p50: at(0.5), p99: at(0.99), n: durations.length, unshared: unsharedCount });
    }
    return figures;
  });
}

const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) throw new Error('npm run build failed');
console.error(`building the baseline ${baseline} in a temporary worktree`);
const before = buildBaseline();
try {
  const sides: Side[] = [
    { name: `before (${baseline})`, script: before.script },
    { name: 'after (this checkout)', script: mainScript },
  ];
  const burstFigures = new Map<string, BurstFigures>();
  for (const side of sides) {
    console.error(`${side.name}: ${rounds} bursts of ${clients} clients × ${perClient}`);
    burstFigures.set(side.name, await bursts(side));
  }
  // Latency: the sides alternate, `BENCH_REPEATS` times (the machine's other load drifts); the
  // median of each figure over the repeats.
  const latencyRuns = new Map<string, Map<number, LatencyPoint>[]>(sides.map((side) => [side.name, []]));
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (const side of repeat % 2 === 0 ? sides : [...sides].reverse()) {
      console.error(
        `${side.name}: decision latency at ${connectionCounts.join(', ')} connections, ${seconds} s each (${repeat + 1}/${repeats})`,
      );
      latencyRuns.get(side.name)!.push(await latency(side));
    }
  }
  console.log(
    `\nBursts: ${rounds} rounds of ${clients} clients × ${perClient} concurrent federated queries over two gateway processes, one redis-server, RATE_LIMIT_TIMEOUT_MS=50\n`,
  );
  console.log('| side | decisions | not from the shared store | per 10,000 | by kind | clients not given exactly 50 | allowed (min–max) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const side of sides) {
    const f = burstFigures.get(side.name)!;
    const unshared = Object.values(f.unshared).reduce((a, b) => a + b, 0);
    const kinds =
      Object.entries(f.unshared)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || '–';
    console.log(
      `| ${side.name} | ${f.decisions} | ${unshared} | ${((unshared / f.decisions) * 10_000).toFixed(1)} | ${kinds} | ` +
        `${f.inexactClients} of ${rounds * clients} | ${Math.min(...f.allowedSeen)}–${Math.max(...f.allowedSeen)} |`,
    );
  }
  console.log(
    `\nDecision latency (Server-Timing ratelimit), ${seconds} s closed loop per point, limit never reached; median of ${repeats} alternating runs\n`,
  );
  console.log(`| side | ${connectionCounts.map((c) => `${c} conn. p50 / p99 (ms)`).join(' | ')} |`);
  console.log(`|---|${connectionCounts.map(() => '---').join('|')}|`);
  for (const side of sides) {
    const runs = latencyRuns.get(side.name)!;
    const cells = connectionCounts.map((c) => {
      const points = runs.map((run) => run.get(c)!);
      const med = (pick: (p: LatencyPoint) => number): number => median(points.map(pick));
      const unshared = points.reduce((a, p) => a + p.unshared, 0);
      const n = points.reduce((a, p) => a + p.n, 0);
      return `${med((p) => p.p50).toFixed(2)} / ${med((p) => p.p99).toFixed(2)} (n=${n}, not shared ${unshared})`;
    });
    console.log(`| ${side.name} | ${cells.join(' | ')} |`);
  }
} finally {
  before.remove();
}
