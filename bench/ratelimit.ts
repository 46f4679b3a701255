/**
 * Rate-limit decisions per second against Redis, per algorithm, beside rate-limiter-flexible's
 * nearest equivalent, on one private redis-server, through the same ioredis client, the same keys
 * and the same concurrency, in the same run: the contenders of an algorithm take turns in rounds
 * (order reversed every round) and the figure is the median of the per-round ratios. RedisStore
 * sends the commands issued together in one write (WriteCoalescer); rate-limiter-flexible's go
 * out as ioredis writes them, one each.
 *
 * - Fixed window (points 50, 60 s, a 40 s block): RedisStore (one EVALSHA of the decide script)
 *   against `RateLimiterRedis` with `blockDuration`; the same on an ioredis client with
 *   `enableAutoPipelining` (ioredis's own batching, which RedisStore's write coalescing is not);
 *   and ResilientStore around RedisStore (the
 *   production path: blocks it has seen are answered locally) against `RateLimiterRedis` with
 *   `blockDuration` and its own in-memory block cache (`inMemoryBlockOnConsumed`): cache against
 *   cache, never a cache against none.
 * - Token bucket (50 tokens, 1 per second): RedisStore against `BurstyRateLimiter` (a limiter of
 *   1 point per second, then a burst limiter of 50 points per 50 s: its way to a bucket, two
 *   calls when the first rejects), and ResilientStore against the same with both limiters'
 *   in-memory block caches.
 * - Sliding window (50 per 60 s): rate-limiter-flexible has none; ours alone.
 *
 * Workloads: mostly allowed (1000 keys × 50 decisions: within every limit) and mostly over the
 * limit (200 keys × 200: 50 allowed, then rejected). Redis commands per decision are counted
 * with MONITOR (script-internal calls apart).
 *
 *   npx tsx bench/ratelimit.ts            (about 3 minutes)
 *   BENCH_ROUNDS=9 BENCH_CONCURRENCY=100 npx tsx bench/ratelimit.ts
 *   BENCH_RL_ALGORITHMS=fixed npx tsx bench/ratelimit.ts   (only the algorithms whose name contains it)
 *
 * Also a section of `npm run bench` (BENCH_SECTIONS=ratelimit; BENCH_RL_ROUNDS there).
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { BurstyRateLimiter, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { silentLogger } from '../src/log.js';
import { defaultPolicy, type Check } from '../src/ratelimit/policy.js';
import { RedisStore } from '../src/ratelimit/redis/redisStore.js';
import { ResilientStore } from '../src/ratelimit/resilientStore.js';
import type { RateLimitStore } from '../src/ratelimit/store.js';
import { quantile } from './paired.js';

export interface RateLimitSettings {
  readonly rounds: number;
  readonly concurrency: number;
  /** Only the comparisons whose algorithm's name contains one of these (all when empty). */
  readonly algorithms: readonly string[];
}

export const defaultRateLimitSettings = (env: NodeJS.ProcessEnv = process.env, roundsVariable = 'BENCH_ROUNDS'): RateLimitSettings => ({
  rounds: Number(env[roundsVariable] ?? 5),
  concurrency: Number(env['BENCH_CONCURRENCY'] ?? 50),
  algorithms: (env['BENCH_RL_ALGORITHMS'] ?? '').split(',').filter((name) => name !== ''),
});

interface Workload {
  readonly name: string;
  readonly keys: number;
  readonly perKey: number;
}
const workloads: Workload[] = [
  { name: 'mostly allowed', keys: 1000, perKey: 50 },
  { name: 'mostly over the limit', keys: 200, perKey: 200 },
];

type Decide = (key: string) => Promise<boolean>;
interface Contender {
  readonly name: string;
  readonly decide: Decide;
}
/** Ours against theirs (or ours alone), compared per round. */
interface Comparison {
  readonly algorithm: string;
  readonly what: string;
  readonly ours: Contender;
  readonly theirs?: Contender;
}

export interface ContenderFigures {
  readonly name: string;
  /** Decisions/s per round. */
  readonly rates: readonly number[];
  readonly median: number;
  readonly allowed: number;
  readonly total: number;
  readonly commandsPerDecision: number;
  readonly commands: Readonly<Record<string, number>>;
  /** Medians over the rounds: this process's CPU per decision (client and harness), µs. */
  readonly nodeCpuUsPerDecision?: number;
  /** The redis-server process's CPU per decision (`INFO cpu`), µs. */
  readonly redisCpuUsPerDecision?: number;
  /** Redis's time per script call, EVALSHA and EVAL (`INFO commandstats`), µs. */
  readonly scriptUsPerCall?: number;
}

export interface ComparisonResult {
  readonly algorithm: string;
  readonly what: string;
  readonly workload: string;
  readonly ours: ContenderFigures;
  readonly theirs?: ContenderFigures;
  /** Ours over theirs, per round, and their median and middle half. */
  readonly ratios?: readonly number[];
  readonly median?: number;
  readonly q1?: number;
  readonly q3?: number;
}

export interface RateLimitResult {
  readonly rounds: number;
  readonly concurrency: number;
  readonly versions: { readonly rateLimiterFlexible: string; readonly redis: string };
  readonly comparisons: readonly ComparisonResult[];
  /** Decisions ResilientStore answered from its block cache for one blocked key, and the script calls Redis saw meanwhile. */
  readonly cachedBlocked: { readonly decisions: number; readonly scriptCalls: number };
}

const fixed: Check[] = [{ name: 'default', limit: defaultPolicy, cost: 1 }];
const bucket: Check[] = [{ name: 'bucket', limit: { algorithm: 'token-bucket', limit: 50, refillPerSecond: 1 }, cost: 1 }];
const sliding: Check[] = [{ name: 'sliding', limit: { algorithm: 'sliding-window', limit: 50, windowMs: 60_000 }, cost: 1 }];

const ours =
  (store: RateLimitStore, checks: Check[]): Decide =>
  async (key) => {
    const verdict = await store.decide(key, checks);
    const decision = verdict.decisions.find((d) => d !== undefined);
    if (!decision) throw new Error('no decision');
    return decision.allowed;
  };
const consume =
  (limiter: RateLimiterRedis | BurstyRateLimiter): Decide =>
  (key) =>
    limiter.consume(key).then(
      () => true,
      (rejection: unknown) => {
        if (rejection instanceof RateLimiterRes) return false;
        throw rejection;
      },
    );

let runId = 0;

/** `perKey` decisions for each of `keys` fresh keys, `concurrency` in flight, interleaved keys. */
async function runWorkload(
  decide: Decide,
  workload: Workload,
  concurrency: number,
): Promise<{ ms: number; allowed: number; total: number }> {
  const run = runId++;
  const total = workload.keys * workload.perKey;
  let next = 0;
  let allowed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        if (await decide(`r${run}-k${i % workload.keys}`)) allowed++;
      }
    }),
  );
  return { ms: performance.now() - started, allowed, total };
}

interface RunFigures {
  readonly ms: number;
  readonly allowed: number;
  readonly total: number;
  readonly nodeCpuUs: number;
  readonly redisCpuUs: number;
  readonly scriptUs: number;
}

/** The redis-server process's CPU time so far, in seconds. */
async function redisCpuSeconds(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  return Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]) + Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]);
}

/** A run with where its CPU went: this process, the redis-server, Redis's time per script call. */
async function measuredRun(admin: Redis, decide: Decide, workload: Workload, concurrency: number): Promise<RunFigures> {
  await admin.config('RESETSTAT');
  const redisBefore = await redisCpuSeconds(admin);
  const cpuBefore = process.cpuUsage();
  const run = await runWorkload(decide, workload, concurrency);
  const cpu = process.cpuUsage(cpuBefore);
  const redisAfter = await redisCpuSeconds(admin);
  let calls = 0;
  let usec = 0;
  for (const m of (await admin.info('commandstats')).matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+),usec=(\d+)/g)) {
    calls += Number(m[1]);
    usec += Number(m[2]);
  }
  return {
    ...run,
    nodeCpuUs: (cpu.user + cpu.system) / run.total,
    redisCpuUs: ((redisAfter - redisBefore) * 1e6) / run.total,
    scriptUs: calls > 0 ? usec / calls : 0,
  };
}

/** Commands clients sent, counted with MONITOR (which tells script-internal calls apart). */
async function commandsPerDecision(
  admin: Redis,
  decide: Decide,
  workload: Workload,
  concurrency: number,
): Promise<{ total: number; byName: Record<string, number> }> {
  const monitor = await admin.monitor();
  const byName: Record<string, number> = {};
  let count = 0;
  let counting = true;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    // Lines still arriving after the count was taken (the admin's own) are not counted.
    if (source === 'lua' || !counting) return;
    const name = String(args[0]).toLowerCase();
    byName[name] = (byName[name] ?? 0) + 1;
    count++;
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const small = { ...workload, keys: Math.max(10, workload.keys / 20) };
  const { total } = await runWorkload(decide, small, concurrency);
  await new Promise((resolve) => setTimeout(resolve, 100));
  counting = false;
  monitor.disconnect();
  for (const name of Object.keys(byName)) byName[name] = byName[name]! / total;
  return { total: count / total, byName };
}

export async function measureRateLimit(settings: RateLimitSettings, log: (message: string) => void = () => {}): Promise<RateLimitResult> {
  const { startRedisServer } = await import('../test/support/redis-server.js');
  const server = await startRedisServer();
  const store = new RedisStore({ url: server.url, keyPrefix: 'bench:' });
  const resilient = new ResilientStore(new RedisStore({ url: server.url, keyPrefix: 'bench-r:' }), { timeoutMs: 1000, log: silentLogger });
  const admin = new Redis(server.url, { lazyConnect: true });
  // ioredis's own batching, for reference: commands of a tick wait while an earlier batch is out.
  const autoPipelining = new Redis(server.url, { enableAutoPipelining: true, lazyConnect: true });
  try {
    await admin.connect();
    const redisVersion = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? '?';
    await store.decide('warm-up', fixed); // connects; loads the script
    await resilient.decide('warm-up', fixed);
    const client = store.client!;
    await autoPipelining.connect();

    // The same ioredis client (same settings, same connection) for rate-limiter-flexible.
    const rlf = (keyPrefix: string, points: number, durationSeconds: number, blockSeconds: number, cache: boolean, storeClient = client) =>
      new RateLimiterRedis({
        storeClient,
        keyPrefix,
        points,
        duration: durationSeconds,
        ...(blockSeconds > 0 && { blockDuration: blockSeconds }),
        // Blocked from the first denial on, until the block (or the window) ends: like the block cache.
        ...(cache && { inMemoryBlockOnConsumed: points + 1, inMemoryBlockDuration: blockSeconds > 0 ? blockSeconds : durationSeconds }),
      });
    const fixedArgs = [defaultPolicy.limit, defaultPolicy.windowMs / 1000, defaultPolicy.penaltyMs / 1000] as const;
    const bursty = (prefix: string, cache: boolean) =>
      new BurstyRateLimiter(rlf(`${prefix}`, 1, 1, 0, cache), rlf(`${prefix}-burst`, 50, 50, 0, cache));

    const all: Comparison[] = [
      {
        algorithm: 'fixed window, penalty block',
        what: 'store against limiter',
        ours: { name: 'RedisStore', decide: ours(store, fixed) },
        theirs: { name: 'RateLimiterRedis, blockDuration', decide: consume(rlf('rlf-fixed', ...fixedArgs, false)) },
      },
      {
        algorithm: 'fixed window, penalty block',
        what: 'theirs on an ioredis client with enableAutoPipelining',
        ours: { name: 'RedisStore', decide: ours(store, fixed) },
        theirs: {
          name: 'RateLimiterRedis, blockDuration, auto-pipelining client',
          decide: consume(rlf('rlf-fixed-auto', ...fixedArgs, false, autoPipelining)),
        },
      },
      {
        algorithm: 'fixed window, penalty block',
        what: 'both with their block cache',
        ours: { name: 'ResilientStore(RedisStore)', decide: ours(resilient, fixed) },
        theirs: {
          name: 'RateLimiterRedis, blockDuration, inMemoryBlockOnConsumed',
          decide: consume(rlf('rlf-fixed-cached', ...fixedArgs, true)),
        },
      },
      {
        algorithm: 'token bucket',
        what: 'store against limiter',
        ours: { name: 'RedisStore', decide: ours(store, bucket) },
        theirs: { name: 'BurstyRateLimiter (2 × RateLimiterRedis)', decide: consume(bursty('rlf-bursty', false)) },
      },
      {
        algorithm: 'token bucket',
        what: 'both with their block cache',
        ours: { name: 'ResilientStore(RedisStore)', decide: ours(resilient, bucket) },
        theirs: { name: 'BurstyRateLimiter, inMemoryBlockOnConsumed on both', decide: consume(bursty('rlf-bursty-cached', true)) },
      },
      { algorithm: 'sliding window', what: 'rate-limiter-flexible has none', ours: { name: 'RedisStore', decide: ours(store, sliding) } },
      {
        algorithm: 'sliding window',
        what: 'rate-limiter-flexible has none',
        ours: { name: 'ResilientStore(RedisStore)', decide: ours(resilient, sliding) },
      },
    ];
    const comparisons = all.filter(
      (c) => settings.algorithms.length === 0 || settings.algorithms.some((name) => c.algorithm.includes(name)),
    );
    const sides = (c: Comparison) => (c.theirs ? [c.ours, c.theirs] : [c.ours]);

    // Warm-up (JIT, connections, script caches).
    for (const c of comparisons)
      for (const s of sides(c)) await runWorkload(s.decide, { name: 'warm-up', keys: 100, perKey: 60 }, settings.concurrency);

    interface Runs {
      rates: number[];
      nodeCpu: number[];
      redisCpu: number[];
      script: number[];
      allowed: number;
      total: number;
    }
    const runs = new Map<Contender, Map<Workload, Runs>>();
    for (let round = 0; round < settings.rounds; round++) {
      for (const workload of workloads) {
        for (const c of comparisons) {
          // The two sides of a comparison back to back, the order reversed each round.
          const order = round % 2 === 0 ? sides(c) : sides(c).reverse();
          for (const s of order) {
            const run = await measuredRun(admin, s.decide, workload, settings.concurrency);
            const byWorkload = runs.get(s) ?? new Map<Workload, Runs>();
            runs.set(s, byWorkload);
            const entry = byWorkload.get(workload) ?? {
              rates: [],
              nodeCpu: [],
              redisCpu: [],
              script: [],
              allowed: run.allowed,
              total: run.total,
            };
            entry.rates.push((run.total / run.ms) * 1000);
            entry.nodeCpu.push(run.nodeCpuUs);
            entry.redisCpu.push(run.redisCpuUs);
            entry.script.push(run.scriptUs);
            byWorkload.set(workload, entry);
          }
        }
      }
      log(`ratelimit: round ${round + 1}/${settings.rounds} done`);
    }

    const results: ComparisonResult[] = [];
    for (const workload of workloads) {
      for (const c of comparisons) {
        const figures = async (s: Contender): Promise<ContenderFigures> => {
          const entry = runs.get(s)!.get(workload)!;
          const commands = await commandsPerDecision(admin, s.decide, workload, settings.concurrency);
          return {
            name: s.name,
            rates: entry.rates,
            median: quantile(entry.rates, 0.5),
            allowed: entry.allowed,
            total: entry.total,
            commandsPerDecision: commands.total,
            commands: commands.byName,
            nodeCpuUsPerDecision: quantile(entry.nodeCpu, 0.5),
            redisCpuUsPerDecision: quantile(entry.redisCpu, 0.5),
            scriptUsPerCall: quantile(entry.script, 0.5),
          };
        };
        const o = await figures(c.ours);
        if (!c.theirs) {
          results.push({ algorithm: c.algorithm, what: c.what, workload: workload.name, ours: o });
          continue;
        }
        const t = await figures(c.theirs);
        const ratios = o.rates.map((rate, i) => rate / t.rates[i]!);
        results.push({
          algorithm: c.algorithm,
          what: c.what,
          workload: workload.name,
          ours: o,
          theirs: t,
          ratios,
          median: quantile(ratios, 0.5),
          q1: quantile(ratios, 0.25),
          q3: quantile(ratios, 0.75),
        });
      }
    }

    // Cached blocks: a client this instance already knows is blocked costs no command.
    const cachedBefore = resilient.stats().cachedBlocked;
    const blockedKey = `cached-${Date.now()}`;
    for (let i = 0; i < 51; i++) await resilient.decide(blockedKey, fixed);
    await admin.config('RESETSTAT');
    for (let i = 0; i < 10_000; i++) await resilient.decide(blockedKey, fixed);
    const stats = [...(await admin.info('commandstats')).matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)];
    const cachedBlocked = {
      decisions: resilient.stats().cachedBlocked - cachedBefore,
      scriptCalls: stats.reduce((sum, m) => sum + Number(m[1]), 0),
    };

    for (const r of results) {
      log(
        `ratelimit ${r.workload} | ${r.algorithm} | ${r.ours.name} ${Math.round(r.ours.median)}/s (${r.ours.commandsPerDecision.toFixed(2)} cmds)` +
          (r.theirs
            ? ` vs ${r.theirs.name} ${Math.round(r.theirs.median)}/s (${r.theirs.commandsPerDecision.toFixed(2)} cmds): ${r.median!.toFixed(2)}× (middle half ${r.q1!.toFixed(2)}–${r.q3!.toFixed(2)}; rounds ${r.ratios!.map((x) => x.toFixed(2)).join(' ')})`
            : ` (${r.what})`) +
          `; allowed ${r.ours.allowed}/${r.ours.total}${r.theirs ? ` vs ${r.theirs.allowed}/${r.theirs.total}` : ''}` +
          `; CPU µs/decision node ${cpuFigures(r.ours)}${r.theirs ? ` vs ${cpuFigures(r.theirs)}` : ''}`,
      );
    }
    log(
      `ratelimit: cached-blocked ${cachedBlocked.decisions} decisions answered locally, ${cachedBlocked.scriptCalls} script calls meanwhile`,
    );
    const { version } = JSON.parse(
      readFileSync(new URL('../node_modules/rate-limiter-flexible/package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    return {
      rounds: settings.rounds,
      concurrency: settings.concurrency,
      versions: { rateLimiterFlexible: version, redis: redisVersion },
      comparisons: results,
      cachedBlocked,
    };
  } finally {
    await Promise.all([store.close(), resilient.close()]);
    admin.disconnect();
    autoPipelining.disconnect();
    await server.stop();
  }
}

/** `node / redis-server CPU per decision, Redis time per script call`, µs. */
export function cpuFigures(f: ContenderFigures): string {
  const us = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(1));
  return `${us(f.nodeCpuUsPerDecision)} / ${us(f.redisCpuUsPerDecision)} (script ${us(f.scriptUsPerCall)})`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const settings = defaultRateLimitSettings();
  console.log(`decisions/s against a private redis-server, ${settings.concurrency} in flight, ${settings.rounds} alternating rounds`);
  await measureRateLimit(settings, (message) => console.log(message));
}
