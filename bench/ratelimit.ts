/**
 * Rate-limit decisions per second and Redis commands per decision: RedisStore (one EVALSHA of
 * the decide script) vs rate-limiter-flexible's RateLimiterRedis with the same policy (points 50,
 * duration 60 s, blockDuration 40 s), on one private redis-server, through the same ioredis
 * client, the same keys and the same concurrency, runs alternating. Also ResilientStore around
 * RedisStore (the production path), whose cached blocks cost no command at all, set against
 * rate-limiter-flexible with its own in-memory block cache (`inMemoryBlockOnConsumed`): cache
 * against cache, not cache against none.
 *
 *   npx tsx bench/ratelimit.ts            (about 20 s)
 *   BENCH_ROUNDS=9 BENCH_CONCURRENCY=100 npx tsx bench/ratelimit.ts
 */
import { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { silentLogger } from '../src/log.js';
import { defaultPolicy } from '../src/ratelimit/policy.js';
import { RedisStore } from '../src/ratelimit/redis/redisStore.js';
import { ResilientStore } from '../src/ratelimit/resilientStore.js';
import { startRedisServer } from '../test/support/redis-server.js';
import { decideOne } from '../src/ratelimit/store.js';

const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 50);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);

interface Workload {
  readonly name: string;
  readonly keys: number;
  readonly perKey: number;
}
/** Under the limit: every decision allowed. Over it: 50 allowed, 1 limited, 149 blocked per key. */
const workloads: Workload[] = [
  { name: 'under limit', keys: 1000, perKey: 50 },
  { name: 'over limit', keys: 200, perKey: 200 },
];

type Decide = (key: string) => Promise<boolean>;
interface Contender {
  readonly name: string;
  readonly decide: Decide;
}

const server = await startRedisServer();
const store = new RedisStore({ url: server.url, keyPrefix: 'bench:' });
const resilient = new ResilientStore(new RedisStore({ url: server.url, keyPrefix: 'bench-r:' }), {
  timeoutMs: 1000,
  log: silentLogger,
});
const admin = new Redis(server.url, { lazyConnect: true });
await admin.connect();
await decideOne(store, 'warm-up', defaultPolicy); // connects; loads the script
await decideOne(resilient, 'warm-up', defaultPolicy);

// The same ioredis client (same settings, same connection) for rate-limiter-flexible, the same policy.
const rlfLimiter = (keyPrefix: string, cache: { inMemoryBlockOnConsumed?: number; inMemoryBlockDuration?: number } = {}) =>
  new RateLimiterRedis({
    storeClient: store.client!,
    keyPrefix,
    points: defaultPolicy.limit,
    duration: defaultPolicy.windowMs / 1000,
    blockDuration: defaultPolicy.penaltyMs / 1000,
    ...cache,
  });
const rlf = rlfLimiter('bench-rlf');
// With its own in-memory block cache, the like of ResilientStore's: blocked from the first denial.
const rlfCached = rlfLimiter('bench-rlf-cached', {
  inMemoryBlockOnConsumed: defaultPolicy.limit + 1,
  inMemoryBlockDuration: defaultPolicy.penaltyMs / 1000,
});
const consume = (limiter: RateLimiterRedis) => (key: string) =>
  limiter.consume(key).then(
    () => true,
    (rejection: unknown) => {
      if (rejection instanceof RateLimiterRes) return false;
      throw rejection;
    },
  );

const contenders: Contender[] = [
  { name: 'RedisStore', decide: async (key) => (await decideOne(store, key, defaultPolicy)).allowed },
  { name: 'rate-limiter-flexible', decide: consume(rlf) },
  { name: 'ResilientStore(RedisStore)', decide: async (key) => (await decideOne(resilient, key, defaultPolicy)).allowed },
  { name: 'rate-limiter-flexible, inMemoryBlockOnConsumed', decide: consume(rlfCached) },
];

let runId = 0;

/** `perKey` decisions for each of `keys` fresh keys, `concurrency` in flight, interleaved keys. */
async function runWorkload(contender: Contender, workload: Workload): Promise<{ ms: number; allowed: number; total: number }> {
  const run = runId++;
  const total = workload.keys * workload.perKey;
  let next = 0;
  let allowed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        if (await contender.decide(`r${run}-k${i % workload.keys}`)) allowed++;
      }
    }),
  );
  return { ms: performance.now() - started, allowed, total };
}

/** Commands clients sent, counted with MONITOR (which tells script-internal calls apart). */
async function commandsPerDecision(contender: Contender, workload: Workload): Promise<{ total: number; byName: Record<string, number> }> {
  const monitor = await admin.monitor();
  const byName: Record<string, number> = {};
  let count = 0;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source === 'lua') return;
    const name = String(args[0]).toLowerCase();
    byName[name] = (byName[name] ?? 0) + 1;
    count++;
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const small = { ...workload, keys: Math.max(10, workload.keys / 20) };
  const { total } = await runWorkload(contender, small);
  await new Promise((resolve) => setTimeout(resolve, 100));
  monitor.disconnect();
  for (const name of Object.keys(byName)) byName[name] = byName[name]! / total;
  return { total: count / total, byName };
}

// Warm-up (JIT, connections, script caches).
for (const contender of contenders) await runWorkload(contender, { name: 'warm-up', keys: 100, perKey: 60 });

const results = new Map<string, { rates: number[]; allowed: number; total: number }>();
for (let round = 0; round < rounds; round++) {
  for (const workload of workloads) {
    // Alternate the order each round so neither side always runs first.
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const contender of order) {
      const { ms, allowed, total } = await runWorkload(contender, workload);
      const key = `${workload.name}|${contender.name}`;
      const entry = results.get(key) ?? { rates: [], allowed, total };
      entry.rates.push((total / ms) * 1000);
      results.set(key, entry);
    }
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const rows: string[][] = [];
for (const workload of workloads) {
  for (const contender of contenders) {
    const entry = results.get(`${workload.name}|${contender.name}`)!;
    const commands = await commandsPerDecision(contender, workload);
    rows.push([
      workload.name,
      contender.name,
      Math.round(median(entry.rates)).toLocaleString('en-US'),
      `${entry.rates.map((r) => Math.round(r / 1000)).join('/')}k`,
      commands.total.toFixed(3),
      Object.entries(commands.byName)
        .map(([name, n]) => `${name} ${n.toFixed(3)}`)
        .join(', '),
      `${entry.allowed}/${entry.total}`,
    ]);
  }
}

const header = ['workload', 'store', 'decisions/s (median)', 'runs', 'cmds/decision', 'commands', 'allowed'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(`\nconcurrency ${concurrency} in flight, ${rounds} alternating rounds, redis-server ${server.port} (private)\n`);
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const row of rows) console.log(line(row));
console.log('');
// Ratios per round (runs of one round are back to back, so a drifting machine cancels out),
// then their median.
for (const workload of workloads) {
  const rates = (name: string): number[] => results.get(`${workload.name}|${name}`)!.rates;
  const ratio = (name: string, against: string): string => {
    const theirs = rates(against);
    const perRound = rates(name).map((rate, i) => rate / theirs[i]!);
    return `${median(perRound).toFixed(2)}x (rounds ${perRound.map((r) => r.toFixed(2)).join(' ')})`;
  };
  console.log(`${workload.name}: RedisStore vs rate-limiter-flexible ${ratio('RedisStore', 'rate-limiter-flexible')}`);
  console.log(
    `${' '.repeat(workload.name.length)}  ResilientStore(RedisStore) vs rate-limiter-flexible with inMemoryBlockOnConsumed (both cache blocks) ${ratio('ResilientStore(RedisStore)', 'rate-limiter-flexible, inMemoryBlockOnConsumed')}`,
  );
}

// Cached blocks: a client this instance already knows is blocked costs no command.
await admin.config('RESETSTAT');
const cachedBefore = resilient.stats().cachedBlocked;
const blockedKey = `cached-${Date.now()}`;
for (let i = 0; i < 51; i++) await decideOne(resilient, blockedKey, defaultPolicy);
await admin.config('RESETSTAT');
for (let i = 0; i < 10_000; i++) await decideOne(resilient, blockedKey, defaultPolicy);
const stats = (await admin.info('commandstats')).match(/cmdstat_(evalsha|eval):calls=(\d+)/g) ?? [];
console.log(
  `cached-blocked: ${resilient.stats().cachedBlocked - cachedBefore} decisions answered locally, ` +
    `Redis script calls during 10,000 of them: ${stats.length === 0 ? 0 : stats.join(', ')}`,
);

await Promise.all([store.close(), resilient.close()]);
admin.disconnect();
await server.stop();
