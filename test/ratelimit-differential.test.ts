/**
 * Memory and Redis agree: random sequences of calls (several policies of every algorithm on one
 * key, tiny windows and fast refills, pauses from 0 to 60 ms) run through the decide script on a
 * private redis-server, and every reply is compared with `decideAll` of policy.ts, the function
 * the in-memory store applies, at the instant Redis decided, from the state Redis held.
 *
 * Redis's clock cannot be injected, so each call is bracketed: `TIME`, the script, `TIME` again,
 * pipelined on one connection of a server nobody else uses. When both readings fall in one
 * millisecond (most calls), every clock the script reads (its `TIME`, the expiries of its keys)
 * is that millisecond, and the reply must be exactly `decideAll`'s at that instant, from the
 * state Redis held before the call, read back as the in-memory store's states; the state Redis
 * holds after the call must be the one `decideAll` wrote (values and expiries). Calls whose
 * readings straddle a millisecond are not compared (Redis 7.0 reads the clock afresh for each
 * PTTL inside a script); the state is read back after every call either way.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import type { Redis } from 'ioredis';
import { decideAll, refundState, type AnyState, type Check, type Decision, type Limit, type Refund } from '../src/ratelimit/policy.js';
import { clientKeys, decideScript, decideScriptSha1, scriptCall, toDecisions } from '../src/ratelimit/redis/decideScript.js';
import { refundCall, refundScript, refundScriptSha1 } from '../src/ratelimit/redis/refundScript.js';
import { usePrivateRedis } from './support/redis-server.js';

/** A small seeded generator (mulberry32), so that a failure names its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

function randomLimit(rand: () => number): Limit {
  const limit = 1 + Math.floor(rand() * 4);
  switch (pick(rand, ['fixed-window', 'sliding-window', 'token-bucket'] as const)) {
    case 'fixed-window':
      return { algorithm: 'fixed-window', limit, windowMs: pick(rand, [1, 2, 3, 5, 20, 60, 200]), penaltyMs: pick(rand, [0, 0, 1, 3, 30]) };
    case 'sliding-window':
      return { algorithm: 'sliding-window', limit, windowMs: pick(rand, [2, 3, 5, 10, 40, 100]) };
    default:
      return { algorithm: 'token-bucket', limit, refillPerSecond: pick(rand, [0.7, 3, 20, 50, 100, 333, 1000]) };
  }
}

function randomChecks(rand: () => number): Check[] {
  const count = 1 + Math.floor(rand() * 4);
  return Array.from({ length: count }, (_, i) => {
    const limit = randomLimit(rand);
    // `default` is the fixed window whose keys carry no policy name.
    const name = i === 0 && limit.algorithm === 'fixed-window' && rand() < 0.5 ? 'default' : `c${i}`;
    return { name, limit, cost: 1, ...(rand() < 0.25 && { shadow: true }) };
  });
}

interface Entry {
  readonly state: AnyState;
  readonly expiresAt: number;
}

type Entries = Readonly<Record<string, Entry>>;

/**
 * What Redis holds for `checks` of `clientKey`, as the in-memory store's entries (name → state,
 * expiry), read in one pipeline between two `TIME` readings: `at` when they agree.
 */
async function readState(redis: Redis, clientKey: string, checks: readonly Check[]): Promise<{ entries: Entries; at: number | undefined }> {
  const keys = clientKeys('diff:', clientKey, checks);
  const pipeline = redis.pipeline().time();
  let k = 0;
  for (const check of checks) {
    if ((check.limit.algorithm ?? 'fixed-window') === 'fixed-window') {
      pipeline
        .exists(keys[k]!)
        .call('PEXPIRETIME', keys[k]!)
        .get(keys[k + 1]!)
        .call('PEXPIRETIME', keys[k + 1]!);
      k += 2;
    } else {
      pipeline.hgetall(keys[k]!).call('PEXPIRETIME', keys[k]!);
      k += 1;
    }
  }
  const replies = (await pipeline.time().exec())!.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
  const entries: Record<string, Entry> = {};
  let r = 1;
  for (const check of checks) {
    const algorithm = check.limit.algorithm ?? 'fixed-window';
    if (algorithm === 'fixed-window') {
      const [block, blockEnds, count, countEnds] = replies.slice(r, r + 4);
      r += 4;
      // A counter beside a block: the block ends this millisecond and a new window has started.
      if (count !== null) {
        entries[check.name] = {
          state: { count: Number(count), windowEndsAt: Number(countEnds), blockedUntil: 0 },
          expiresAt: Number(countEnds),
        };
      } else if (block === 1) {
        entries[check.name] = { state: { count: 0, windowEndsAt: 0, blockedUntil: Number(blockEnds) }, expiresAt: Number(blockEnds) };
      }
    } else {
      const [hash, ends] = replies.slice(r, r + 2) as [Record<string, string>, number];
      r += 2;
      if (Object.keys(hash).length === 0) continue;
      const state: AnyState =
        algorithm === 'sliding-window'
          ? { window: Number(hash['w']), current: Number(hash['c']), previous: Number(hash['p']) }
          : { tokens: Number(hash['t']), updatedAt: Number(hash['u']) };
      entries[check.name] = { state, expiresAt: Number(ends) };
    }
  }
  const [t1, t2] = [ms(replies[0] as [string, string]), ms(replies[r] as [string, string])];
  return { entries, at: t1 === t2 ? t1 : undefined };
}

/** The in-memory store's call (memoryStore.ts): an entry past its expiry is absent; a write replaces the entry. */
function modelCall(before: Entries, checks: readonly Check[], now: number): { decisions: Decision[]; after: Entries } {
  const states = checks.map((c) => {
    const entry = before[c.name];
    return entry && entry.expiresAt > now ? entry.state : undefined;
  });
  const { decisions, writes } = decideAll(checks, states, now);
  const after: Record<string, Entry> = { ...before };
  writes.forEach((write, i) => {
    if (write?.next) after[checks[i]!.name] = { state: write.next, expiresAt: write.expiresAt };
  });
  return { decisions, after };
}

/**
 * The in-memory store's refund (stateTable.ts `refundEntries`): an entry past its expiry is left
 * alone; a refund that leaves an entry ending now (a bucket refilled to full) leaves nothing.
 */
function modelRefund(before: Entries, refunds: readonly Refund[], now: number): Entries {
  const after: Record<string, Entry> = { ...before };
  for (const refund of refunds) {
    const entry = after[refund.check.name];
    if (!entry || entry.expiresAt <= now) continue;
    const write = refundState(refund, entry.state, now);
    if (!write) continue;
    if (write.expiresAt <= now) delete after[refund.check.name];
    else after[refund.check.name] = { state: write.next, expiresAt: write.expiresAt };
  }
  return after;
}

/** The entries Redis still has at `now`: it drops a key only after its expiry instant. */
const live = (entries: Entries, now: number): Entries => Object.fromEntries(Object.entries(entries).filter(([, e]) => e.expiresAt >= now));

const ms = (time: [string, string]): number => Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
const sleep = (n: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, n));

interface Step {
  readonly subset: readonly Check[];
  readonly at: number | undefined;
  readonly decisions: readonly Decision[];
  /** A refund rather than a decision: whether it changed the state. */
  readonly refunded?: boolean;
}

/**
 * One call of the refund script for some of the checks (amounts 1–3, `resetMs` from a window
 * just ended to a long one), compared with `modelRefund` when pinned to one millisecond.
 */
async function refundStep(
  redis: Redis,
  rand: () => number,
  clientKey: string,
  checks: readonly Check[],
  before: Entries,
  where: string,
): Promise<{ step: Step; after: Entries }> {
  const subset = checks.filter(() => rand() < 0.6);
  if (subset.length === 0) subset.push(pick(rand, checks));
  const refunds: Refund[] = subset.map((check) => {
    const amount = 1 + Math.floor(rand() * 3);
    return {
      check: { ...check, cost: amount },
      amount,
      resetMs: pick(rand, [1, 3, 20, 100, 100_000]),
      elapsedMs: pick(rand, [0, 1, 2, 50, 99_800, 99_900]),
    };
  });
  const { keys, args } = refundCall('diff:', clientKey, refunds);
  const replies = (await redis
    .pipeline()
    .time()
    .evalsha(refundScriptSha1, keys.length, ...keys, ...args)
    .time()
    .exec())!;
  for (const [error] of replies) if (error) throw error;
  const [t1, t2] = [ms(replies[0]![1] as [string, string]), ms(replies[2]![1] as [string, string])];
  const read = await readState(redis, clientKey, checks);
  const at = t1 === t2 ? t1 : undefined;
  if (at !== undefined && read.at !== undefined) {
    const expected = live(modelRefund(before, refunds, at), read.at);
    assert.ok(
      isDeepStrictEqual(read.entries, expected),
      `state after a refund differs: Redis ${JSON.stringify(read.entries)}, policy.ts ${JSON.stringify(expected)} (refund at ${at}, read at ${read.at})\n` +
        `${where}\nrefunds: ${JSON.stringify(refunds)}\nstate before: ${JSON.stringify(before)}`,
    );
  }
  return {
    step: { subset, at, decisions: [], refunded: !isDeepStrictEqual(read.entries, live(before, read.at ?? t2)) },
    after: read.entries,
  };
}

async function runSequence(redis: Redis, seed: number, length: number): Promise<Step[]> {
  const rand = random(seed);
  const checks = randomChecks(rand);
  const clientKey = `seq-${seed}`;
  let before: Entries = {};
  const steps: Step[] = [];
  for (let n = 0; n < length; n++) {
    if (n > 0 && rand() < 0.25) {
      const { step, after } = await refundStep(redis, rand, clientKey, checks, before, `seed ${seed}, call ${n + 1}`);
      steps.push(step);
      before = after;
      continue;
    }
    const subset = checks.filter(() => rand() < 0.7);
    if (subset.length === 0) subset.push(pick(rand, checks));
    const { keys, args } = scriptCall('diff:', clientKey, subset);
    const replies = (await redis
      .pipeline()
      .time()
      .evalsha(decideScriptSha1, keys.length, ...keys, ...args)
      .time()
      .exec())!;
    for (const [error] of replies) if (error) throw error;
    const [t1, t2] = [ms(replies[0]![1] as [string, string]), ms(replies[2]![1] as [string, string])];
    const decisions = toDecisions(replies[1]![1], subset.length);
    const read = await readState(redis, clientKey, checks);
    const after = read.entries;
    const at = t1 === t2 ? t1 : undefined;
    steps.push({ subset, at, decisions });
    if (at !== undefined) {
      const model = modelCall(before, subset, at);
      const where = () =>
        `seed ${seed}, call ${n + 1} at ${at}\nchecks: ${JSON.stringify(subset)}\nstate before: ${JSON.stringify(before)}\n` +
        `previous calls: ${JSON.stringify(steps.slice(-5, -1))}`;
      assert.ok(
        isDeepStrictEqual(decisions, model.decisions),
        `decisions differ: Redis ${JSON.stringify(decisions)}, policy.ts ${JSON.stringify(model.decisions)}\n${where()}`,
      );
      // Compared when the reading too is pinned to one millisecond: what is left of the written state then.
      if (read.at !== undefined) {
        const expected = live(model.after, read.at);
        assert.ok(
          isDeepStrictEqual(after, expected),
          `state after differs: Redis ${JSON.stringify(after)}, policy.ts ${JSON.stringify(expected)} (read at ${read.at})\n${where()}`,
        );
      }
    }
    before = after;
    const pause = rand();
    if (pause < 0.3) await sleep(1 + Math.floor(rand() * 3));
    else if (pause < 0.6) await sleep(5 + Math.floor(rand() * 55));
  }
  return steps;
}

describe('memory and Redis agree', () => {
  const redis = usePrivateRedis();

  test('random sequences of several policies per call, and refunds: each Redis reply, and the state it leaves, is what policy.ts (the in-memory store) gives at the instant Redis decided', async () => {
    assert.equal(await redis.admin.script('LOAD', decideScript), decideScriptSha1);
    assert.equal(await redis.admin.script('LOAD', refundScript), refundScriptSha1);
    const { Redis } = await import('ioredis');
    const connections = Array.from({ length: 12 }, () => new Redis(redis.server.url));
    // DIFFERENTIAL_SEED replays a failure's sequences (each names its seed).
    const base = Number(process.env['DIFFERENTIAL_SEED'] ?? Math.floor(Math.random() * 1e9));
    try {
      const steps: Step[] = [];
      // 12 sequences at a time, on their own connections and keys: 48 in all.
      for (let round = 0; round < 4; round++) {
        for (const run of await Promise.all(connections.map((c, i) => runSequence(c, base + round * 12 + i, 80)))) steps.push(...run);
      }
      // The comparison covered every outcome of every algorithm, and most calls.
      const compared = steps.filter((s) => s.at !== undefined);
      assert.ok(
        steps.some((s) => s.refunded),
        `no refund changed any state (seed ${base})`,
      );
      const seen = new Set(
        compared.flatMap((s) =>
          s.decisions.map((d, i) => `${s.subset[i]!.limit.algorithm ?? 'fixed-window'} ${d.allowed ? 'allowed' : d.reason}`),
        ),
      );
      for (const outcome of [
        'fixed-window allowed',
        'fixed-window limited',
        'fixed-window blocked',
        'sliding-window allowed',
        'sliding-window limited',
        'token-bucket allowed',
        'token-bucket limited',
      ]) {
        assert.ok(seen.has(outcome), `no ${outcome} among ${compared.length} compared calls (seed ${base})`);
      }
      assert.ok(
        compared.length > steps.length / 2,
        `only ${compared.length} of ${steps.length} calls pinned to one millisecond (seed ${base})`,
      );
    } finally {
      for (const c of connections) c.disconnect();
    }
  });
});
