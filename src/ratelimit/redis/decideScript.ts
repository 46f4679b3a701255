import type { RateLimitPolicy } from '../policy.js';
import type { StoreDecision } from '../store.js';

/**
 * The whole rate-limit decision for one request as one Lua script: one round trip, atomic on
 * the Redis server, with the semantics of `decide` in ../policy.ts (docs/architecture.md, "Rate limiting:
 * the policy"). Shared by the TCP store (ioredis) and the REST store (@upstash/redis).
 *
 * KEYS[1] block key, KEYS[2] count key (both with one hash tag: one Redis Cluster slot).
 * ARGV[1] limit, ARGV[2] window in ms, ARGV[3] penalty in ms.
 *
 * Returns `{kind, a, b}` as integers:
 * - `{0, remaining, resetMs}`: allowed;
 * - `{1, retryAfterMs, 0}`: this request went over the limit and started the block (`limited`);
 * - `{2, retryAfterMs, 0}`: the client was already blocked (`blocked`); the block is not extended.
 *
 * A key found without an expiry (only possible if something outside this script wrote it) gets
 * one, so no client can be limited or blocked forever.
 */
export const decideScript = `
local blockTtl = redis.call('PTTL', KEYS[1])
if blockTtl > 0 then
  return {2, blockTtl, 0}
end
if blockTtl == -1 then
  redis.call('DEL', KEYS[1])
end
local limit = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local count = redis.call('INCR', KEYS[2])
local resetMs = windowMs
if count == 1 then
  redis.call('PEXPIRE', KEYS[2], windowMs)
else
  resetMs = redis.call('PTTL', KEYS[2])
  if resetMs < 0 then
    redis.call('PEXPIRE', KEYS[2], windowMs)
    resetMs = windowMs
  end
end
if count > limit then
  local penaltyMs = tonumber(ARGV[3])
  redis.call('SET', KEYS[1], '1', 'PX', penaltyMs)
  redis.call('DEL', KEYS[2])
  return {1, penaltyMs, 0}
end
return {0, limit - count, resetMs}
`;

/** The default key prefix; `REDIS_KEY_PREFIX` lets several deployments share one Redis. */
export const defaultKeyPrefix = 'tollgate:';

/**
 * The two keys of one client: `${prefix}{${clientKey}}:block` and `:count`. The braces are a
 * Redis Cluster hash tag, so both keys live in one slot. Braces and `%` inside the client key are
 * percent-encoded (client keys are addresses, which never contain them) so that no client key can
 * end the tag early; the empty key becomes `%`.
 */
export function clientKeys(prefix: string, clientKey: string): [blockKey: string, countKey: string] {
  const tag = safeTag.test(clientKey) ? clientKey : escapeTag(clientKey);
  const base = `${prefix}{${tag}}`;
  return [`${base}:block`, `${base}:count`];
}

const safeTag = /^[^%{}]+$/;

function escapeTag(clientKey: string): string {
  if (clientKey === '') return '%';
  return clientKey.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
}

const argsByPolicy = new WeakMap<RateLimitPolicy, readonly [string, string, string]>();

/** The script's arguments for a policy: limit, window and penalty in whole milliseconds. */
export function scriptArgs(policy: RateLimitPolicy): readonly [string, string, string] {
  let args = argsByPolicy.get(policy);
  if (!args) {
    args = [String(policy.limit), String(Math.ceil(policy.windowMs)), String(Math.ceil(policy.penaltyMs))];
    argsByPolicy.set(policy, args);
  }
  return args;
}

/**
 * Maps the script's reply to a `Decision` (with `source: 'store'`); throws on anything it does
 * not recognise.
 */
export function toDecision(reply: unknown): StoreDecision {
  if (Array.isArray(reply) && reply.length === 3) {
    const kind = integer(reply[0]);
    const a = integer(reply[1]);
    const b = integer(reply[2]);
    if (Number.isSafeInteger(a) && Number.isSafeInteger(b)) {
      if (kind === 0) return { allowed: true, remaining: a, resetMs: b, source: 'store' };
      if (kind === 1) return { allowed: false, reason: 'limited', retryAfterMs: a, source: 'store' };
      if (kind === 2) return { allowed: false, reason: 'blocked', retryAfterMs: a, source: 'store' };
    }
  }
  throw new TypeError(`unexpected rate-limit script reply: ${JSON.stringify(reply)}`);
}

/** Integers arrive as numbers; a proxy that turns them into decimal strings is tolerated. */
function integer(value: unknown): number {
  if (typeof value === 'number') return value;
  return typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
}

/**
 * The script's SHA-1, what EVALSHA names it by. Kept here rather than computed at run time (as
 * Upstash's ratelimit-js does): no async Web Crypto call shared between Worker requests, no
 * node:crypto in the REST store. test/ratelimit-redis.test.ts checks it against the script.
 */
export const decideScriptSha1 = '867747033baf39276779910ffd3f7039a9d12b7f';

/** Whether an error from Redis says the script is not in its script cache. */
export function isNoScriptError(error: unknown): boolean {
  return error instanceof Error && /NOSCRIPT/i.test(error.message);
}
