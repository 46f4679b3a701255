/**
 * CPU per rate-limit decision with one policy against three, through the rate-limit step
 * (src/lifecycle/steps/rateLimit.ts) as a request reaches it, on the in-memory store and on Redis
 * (ResilientStore around RedisStore, as the gateway runs it, on a private redis-server):
 *
 * - one policy: the default, a fixed window on the identity, which is the address
 *   (`RATE_LIMIT_IDENTITY=ip`): one store call of one check;
 * - three policies: a fixed window with a penalty on the address, a sliding window and a token
 *   bucket on a verified identity (`jwt:user-N`): two store calls in parallel, one check on the
 *   address and two on the identity.
 *
 * A few hundred clients, limits far above the run's decisions (nothing is rejected). The two take
 * turns in rounds (order swapped each round); per round the ratio of three to one, then the median.
 * In memory the decisions run one after another; on Redis `BENCH_POLICY_CONCURRENCY` (50) are in
 * flight, and the redis-server's CPU is read beside the gateway process's.
 *
 *   npx tsx bench/policies.ts             (about 30 s)
 *
 * Also a section of `npm run bench` (BENCH_SECTIONS=policies).
 */
import { performance } from 'node:perf_hooks';
import { addressIdentity, credentialIdentity, type Identity } from '../src/identity/identity.js';
import { RequestContext } from '../src/lifecycle/context.js';
import { rateLimit } from '../src/lifecycle/steps/rateLimit.js';
import { silentLogger } from '../src/log.js';
import { MemoryStore } from '../src/ratelimit/memoryStore.js';
import { defaultPolicies, parsePolicies, type PolicySpec } from '../src/ratelimit/policies.js';
import { RedisStore } from '../src/ratelimit/redis/redisStore.js';
import { ResilientStore } from '../src/ratelimit/resilientStore.js';
import type { RateLimitStore } from '../src/ratelimit/store.js';
import { cpuMs } from './gateways/contenders.js';
import { quantile } from './paired.js';
import { threePoliciesJson } from './workload/identity.js';

export interface PolicySettings {
  readonly rounds: number;
  /** Decisions per round and side, in memory. */
  readonly memoryDecisions: number;
  /** Decisions per round and side, on Redis. */
  readonly redisDecisions: number;
  readonly concurrency: number;
  readonly clients: number;
}

export const defaultPolicySettings = (env: NodeJS.ProcessEnv = process.env): PolicySettings => ({
  rounds: Number(env['BENCH_POLICY_ROUNDS'] ?? 7),
  memoryDecisions: Number(env['BENCH_POLICY_MEMORY_DECISIONS'] ?? 40_000),
  redisDecisions: Number(env['BENCH_POLICY_REDIS_DECISIONS'] ?? 10_000),
  concurrency: Number(env['BENCH_POLICY_CONCURRENCY'] ?? 50),
  clients: Number(env['BENCH_POLICY_CLIENTS'] ?? 300),
});

/** Far above any run's decisions: nothing is rejected. */
const high = 1_000_000_000;

export interface PolicyStoreResult {
  readonly store: string;
  /** In flight at once (1: one after another). */
  readonly concurrency: number;
  readonly decisions: number;
  /** CPU µs per decision of this process, per round, for one and three policies. */
  readonly oneCpuUs: readonly number[];
  readonly threeCpuUs: readonly number[];
  /** The redis-server's CPU µs per decision, per round (Redis only). */
  readonly oneServerCpuUs?: readonly number[];
  readonly threeServerCpuUs?: readonly number[];
  /** Decisions per second, per round. */
  readonly oneRate: readonly number[];
  readonly threeRate: readonly number[];
  /** Three over one, per round: CPU per decision, and decisions/s. */
  readonly cpuRatios: readonly number[];
  readonly rateRatios: readonly number[];
}

export interface PolicyResult {
  readonly rounds: number;
  readonly clients: number;
  readonly stores: readonly PolicyStoreResult[];
}

interface Side {
  readonly step: (c: RequestContext) => Promise<void>;
  /** The context of the i-th decision: as client identity and identity leave it. */
  readonly context: (i: number) => RequestContext;
}

const request = new Request('http://127.0.0.1/graphql', { method: 'POST' });
const platform = { waitUntil: () => {} };

function side(
  store: RateLimitStore,
  policies: readonly PolicySpec[],
  clients: number,
  identityOf: (i: number) => Identity | undefined,
): Side {
  const limit = rateLimit({ store, policies, log: silentLogger, now: () => performance.now() });
  const response = new Response(null);
  // The rest of the lifecycle answers at once.
  const step = (c: RequestContext) =>
    limit(c, async () => {
      c.response = response;
    });
  const addresses = Array.from({ length: clients }, (_, i) => `198.51.${(i >> 8) & 255}.${i & 255}`);
  const identities = Array.from({ length: clients }, (_, i) => identityOf(i));
  return {
    step: (c) => step(c),
    context: (i) => {
      const c = new RequestContext(request, platform, '/graphql');
      const n = i % clients;
      const identity = identities[n] ?? addressIdentity(addresses[n]!);
      c.address = addresses[n]!;
      c.identity = identity;
      c.clientKey = identity.source === 'ip' ? addresses[n]! : `${identity.source}:${identity.id}`;
      return c;
    },
  };
}

async function run(
  s: Side,
  decisions: number,
  concurrency: number,
  serverPid?: number,
): Promise<{ cpuUs: number; serverUs: number; rate: number }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const server = serverPid === undefined ? 0 : cpuMs([serverPid]);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < decisions) {
        const c = s.context(next++);
        await s.step(c);
        if (!c.rateLimit.source || c.rateLimit.source === 'disabled' || !('allowed' in c.rateLimit) || !c.rateLimit.allowed) {
          throw new Error(`a decision was not an allowed one: ${JSON.stringify(c.rateLimit)}`);
        }
      }
    }),
  );
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return {
    cpuUs: (used.user + used.system) / decisions,
    serverUs: serverPid === undefined ? 0 : ((cpuMs([serverPid]) - server) * 1000) / decisions,
    rate: (decisions / ms) * 1000,
  };
}

async function compare(
  name: string,
  makeStore: () => RateLimitStore,
  settings: PolicySettings,
  decisions: number,
  concurrency: number,
  serverPid?: number,
): Promise<PolicyStoreResult> {
  const oneStore = makeStore();
  const threeStore = makeStore();
  try {
    const one = side(oneStore, defaultPolicies({ limit: high, windowMs: 60_000, penaltyMs: 40_000 }), settings.clients, () => undefined);
    const three = side(threeStore, parsePolicies(threePoliciesJson), settings.clients, (i) =>
      credentialIdentity('jwt', `user-${i}`, i % 10 === 0 ? 'pro' : undefined),
    );
    await run(one, Math.min(decisions, 5000), concurrency, serverPid);
    await run(three, Math.min(decisions, 5000), concurrency, serverPid);
    const r = {
      one: [] as { cpuUs: number; serverUs: number; rate: number }[],
      three: [] as { cpuUs: number; serverUs: number; rate: number }[],
    };
    for (let i = 0; i < settings.rounds; i++) {
      const order = i % 2 === 0 ? (['one', 'three'] as const) : (['three', 'one'] as const);
      for (const which of order) r[which].push(await run(which === 'one' ? one : three, decisions, concurrency, serverPid));
    }
    return {
      store: name,
      concurrency,
      decisions,
      oneCpuUs: r.one.map((x) => x.cpuUs),
      threeCpuUs: r.three.map((x) => x.cpuUs),
      ...(serverPid === undefined
        ? {}
        : { oneServerCpuUs: r.one.map((x) => x.serverUs), threeServerCpuUs: r.three.map((x) => x.serverUs) }),
      oneRate: r.one.map((x) => x.rate),
      threeRate: r.three.map((x) => x.rate),
      cpuRatios: r.three.map((x, i) => x.cpuUs / r.one[i]!.cpuUs),
      rateRatios: r.three.map((x, i) => x.rate / r.one[i]!.rate),
    };
  } finally {
    await Promise.all([oneStore.close(), threeStore.close()]);
  }
}

export async function measurePolicies(settings: PolicySettings, log: (message: string) => void = () => {}): Promise<PolicyResult> {
  const { startRedisServer } = await import('../test/support/redis-server.js');
  const stores: PolicyStoreResult[] = [];
  stores.push(await compare('in-memory (MemoryStore)', () => new MemoryStore(), settings, settings.memoryDecisions, 1));
  const server = await startRedisServer();
  try {
    let n = 0;
    const makeRedis = () =>
      new ResilientStore(new RedisStore({ url: server.url, keyPrefix: `bench-policies-${n++}:` }), { timeoutMs: 1000, log: silentLogger });
    stores.push(
      await compare('Redis (ResilientStore(RedisStore))', makeRedis, settings, settings.redisDecisions, settings.concurrency, server.pid),
    );
  } finally {
    await server.stop();
  }
  const m = (xs: readonly number[]) => quantile(xs, 0.5);
  for (const s of stores) {
    log(
      `policies ${s.store}: 1 policy ${m(s.oneCpuUs).toFixed(2)} µs CPU/decision, 3 policies ${m(s.threeCpuUs).toFixed(2)} µs; ` +
        `ratio ${m(s.cpuRatios).toFixed(2)}× (rounds ${s.cpuRatios.map((x) => x.toFixed(2)).join(' ')}); decisions/s ${m(s.oneRate).toFixed(0)} vs ${m(s.threeRate).toFixed(0)} (${m(s.rateRatios).toFixed(2)}×)` +
        (s.oneServerCpuUs && s.threeServerCpuUs
          ? `; redis-server ${m(s.oneServerCpuUs).toFixed(1)} vs ${m(s.threeServerCpuUs).toFixed(1)} µs/decision`
          : ''),
    );
  }
  return { rounds: settings.rounds, clients: settings.clients, stores };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const settings = defaultPolicySettings();
  console.log(`1 vs 3 policies through the rate-limit step; ${settings.rounds} alternating rounds, ${settings.clients} clients`);
  await measurePolicies(settings, (message) => console.log(message));
}
