import type { Check, Decision, Limit } from '../policy.js';

/**
 * The start of every script here: effects replicated rather than the script (Redis before 7
 * replicates scripts verbatim by default, and `TIME` makes one nondeterministic), and `clock()`,
 * the server's time in ms, read once per call.
 */
export const scriptPrelude = `
if redis.replicate_commands then redis.replicate_commands() end
local now
local function clock()
  if not now then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return now
end
`;

/**
 * The whole rate-limit decision for one key as one Lua script: one round trip, atomic on the
 * Redis server, with the semantics of `decideAll` in ../policy.ts (each algorithm, and how several
 * policies of one key combine). Shared by the TCP store (ioredis) and the REST store
 * (@upstash/redis).
 *
 * Per check, in order: ARGV holds six values — the algorithm (`f` fixed window, `s` sliding
 * window, `t` token bucket), the limit, the window in ms (`f`, `s`) or the refill per second
 * (`t`), the penalty in ms (`f`; 0 for none), the cost, and `1` for a shadow check — and KEYS
 * holds the check's keys (`f`: block and count; `s`, `t`: one hash), all under one hash tag (one
 * Redis Cluster slot).
 *
 * Phase one reads every check's state and decides it; phase two writes: if an enforced check
 * rejected, only the rejecting checks' own transitions (a penalty block starts); otherwise every
 * check's. The sliding window and the token bucket read the time from Redis (`TIME`), so
 * instances with skewed clocks agree, and expire at absolute instants of that clock (PEXPIREAT:
 * the script's `TIME` and the clock Redis expires keys by, taken at the script's start, can be a
 * millisecond apart); the fixed window lives in the keys' expiries, which are Redis's clock too.
 * A fixed window reads its count first and its block only when the count is 0 or missing: the
 * count is written only while no block is on (here and in ./refundScript.ts) and a block deletes
 * it, so a count above 0 means no block. A window under way then costs three calls (GET, PTTL,
 * INCRBY), as rate-limiter-flexible's does.
 * Redis drops a key only after its expiry instant, so at that very millisecond a key is still
 * there with a PTTL of 0: a fixed window's counter then counts as ended (a new window starts, as
 * in policy.ts), and a token bucket past its fill time reads as full. Fractional tokens are
 * stored with 17 significant digits, so they read back as the same double the in-memory store
 * keeps.
 *
 * Returns three integers per check, `{kind, a, b}`:
 * - `{0, remaining, resetMs}`: allowed;
 * - `{1, retryAfterMs, 0}`: over the limit (`limited`; a fixed window's penalty block started);
 * - `{2, retryAfterMs, 0}`: already blocked (`blocked`); the block is not extended.
 *
 * The keys are this script's own (and the refund script's): a block written from outside while a
 * window is under way is not seen. A count found without an expiry (only possible if something
 * outside wrote it) is given the window as its expiry by the next decision that counts it or that
 * it rejects, and a block found without one is deleted, so no client is limited or blocked forever.
 */
export const decideScript = `${scriptPrelude}local out, writes, rejected, k = {}, {}, false, 1
for i = 1, #ARGV / 6 do
  local a = (i - 1) * 6
  local algo, limit, param = ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local penalty, cost = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
  local kind, x, y, write = 0, 0, 0, nil
  if algo == 'f' then
    local blockKey, countKey = KEYS[k], KEYS[k + 1]
    k = k + 2
    local count, blockTtl = tonumber(redis.call('GET', countKey)) or 0, 0
    if count <= 0 then
      blockTtl = redis.call('PTTL', blockKey)
      if blockTtl == -1 then redis.call('DEL', blockKey) end
    end
    if blockTtl > 0 then
      kind, x = 2, blockTtl
    else
      local ttl, fresh = param, true
      if count > 0 then
        local pttl = redis.call('PTTL', countKey)
        if pttl > 0 then
          ttl, fresh = pttl, false
        elseif pttl == 0 then
          count = 0
        end
      end
      local total = count + cost
      if total > limit then
        kind, x = 1, ttl
        if penalty > 0 then
          x = penalty
          write = {'block', blockKey, countKey, penalty}
        elseif fresh and count > 0 then
          write = {'expire', countKey, param}
        end
      else
        kind, x, y = 0, limit - total, ttl
        write = {'count', countKey, cost, fresh, param, total}
      end
    end
  elseif algo == 's' then
    local key = KEYS[k]
    k = k + 1
    local t, w = clock(), param
    local window = math.floor(t / w)
    local elapsed = t - window * w
    local h = redis.call('HMGET', key, 'w', 'c', 'p')
    local sw, current, previous = tonumber(h[1]), 0, 0
    if sw == window then
      current, previous = tonumber(h[2]) or 0, tonumber(h[3]) or 0
    elseif sw == window - 1 then
      previous = tonumber(h[2]) or 0
    end
    local estimate = (previous * (w - elapsed)) / w + current
    if estimate + cost <= limit then
      kind, x, y = 0, math.floor(limit - estimate - cost), w - elapsed
      write = {'window', key, window, current + cost, previous, (window + 2) * w}
    else
      local retry
      if current + cost <= limit then
        retry = math.ceil(w - elapsed - ((limit - current - cost) * w) / previous)
      elseif cost <= limit then
        retry = w - elapsed + math.ceil(w - ((limit - cost) * w) / current)
      else
        retry = w - elapsed + w
      end
      if retry < 1 then retry = 1 end
      kind, x = 1, retry
    end
  else
    local key = KEYS[k]
    k = k + 1
    local t = clock()
    local h = redis.call('HMGET', key, 't', 'u')
    local stored, updated = tonumber(h[1]), tonumber(h[2])
    local tokens = limit
    if stored and updated then
      local dt = t - updated
      if dt < 0 then dt = 0 end
      if dt < math.ceil(((limit - stored) * 1000) / param) then
        tokens = math.min(limit, stored + (dt * param) / 1000)
      end
    end
    if tokens >= cost then
      local left = tokens - cost
      local reset = math.ceil(((limit - left) * 1000) / param)
      kind, x, y = 0, math.floor(left), reset
      if reset < 1 then reset = 1 end
      write = {'bucket', key, left, t, t + reset}
    else
      local retry = math.ceil(((cost - tokens) * 1000) / param)
      if retry < 1 then retry = 1 end
      kind, x = 1, retry
    end
  end
  if kind ~= 0 and ARGV[a + 6] ~= '1' then rejected = true end
  out[#out + 1], out[#out + 2], out[#out + 3] = kind, x, y
  writes[i] = write
end
for i, w in pairs(writes) do
  if not rejected or out[i * 3 - 2] ~= 0 then
    if w[1] == 'block' then
      redis.call('SET', w[2], '1', 'PX', w[4])
      redis.call('DEL', w[3])
    elseif w[1] == 'count' then
      if w[4] then
        redis.call('SET', w[2], w[6], 'PX', w[5])
      else
        redis.call('INCRBY', w[2], w[3])
      end
    elseif w[1] == 'expire' then
      redis.call('PEXPIRE', w[2], w[3])
    elseif w[1] == 'window' then
      redis.call('HSET', w[2], 'w', w[3], 'c', w[4], 'p', w[5])
      redis.call('PEXPIREAT', w[2], w[6])
    else
      redis.call('HSET', w[2], 't', string.format('%.17g', w[3]), 'u', w[4])
      redis.call('PEXPIREAT', w[2], w[5])
    end
  end
end
return out
`;

/**
 * The script's SHA-1, what EVALSHA names it by. Kept here rather than computed at run time (as
 * Upstash's ratelimit-js does): no async Web Crypto call shared between Worker requests, no
 * node:crypto in the REST store. test/unit/decide-script.test.ts checks it against the script.
 */
export const decideScriptSha1 = '5a56019107ffae1dec77e3ca8b818d13859d0276';

/** The default key prefix; `REDIS_KEY_PREFIX` lets several deployments share one Redis. */
export const defaultKeyPrefix = 'tollgate:';

/**
 * The keys of one client: `${prefix}{${clientKey}}` then, per policy, `:block` and `:count` (a
 * fixed window; the policy named `default` has exactly these, as before there were several
 * policies, so its counters carry over), or `:<name>:block`/`:<name>:count`, `:<name>:sw`
 * (sliding window), `:<name>:tb` (token bucket). A policy whose algorithm changes starts afresh.
 * The braces are a Redis Cluster hash tag, so all of a client's keys live in one slot. Braces and
 * `%` inside the client key are percent-encoded so that no client key can end the tag early; the
 * empty key becomes `%`.
 */
export function clientKeys(prefix: string, clientKey: string, checks: readonly Check[]): string[] {
  const tag = safeTag.test(clientKey) ? clientKey : escapeTag(clientKey);
  const base = `${prefix}{${tag}}`;
  const keys: string[] = [];
  for (const check of checks) {
    const algorithm = check.limit.algorithm ?? 'fixed-window';
    const named = check.name === 'default' ? base : `${base}:${check.name}`;
    if (algorithm === 'fixed-window') keys.push(`${named}:block`, `${named}:count`);
    else keys.push(`${base}:${check.name}:${algorithm === 'sliding-window' ? 'sw' : 'tb'}`);
  }
  return keys;
}

const safeTag = /^[^%{}]+$/;

function escapeTag(clientKey: string): string {
  if (clientKey === '') return '%';
  return clientKey.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
}

const argsByLimit = new WeakMap<Limit, readonly [string, string, string, string]>();

/** The script's six arguments for one check. */
export function checkArgs(check: Check): string[] {
  let args = argsByLimit.get(check.limit);
  if (!args) {
    const limit = check.limit;
    args =
      limit.algorithm === 'token-bucket'
        ? ['t', String(limit.limit), String(limit.refillPerSecond), '0']
        : limit.algorithm === 'sliding-window'
          ? ['s', String(limit.limit), String(Math.ceil(limit.windowMs)), '0']
          : ['f', String(limit.limit), String(Math.ceil(limit.windowMs)), String(Math.ceil(limit.penaltyMs))];
    argsByLimit.set(check.limit, args);
  }
  return [...args, String(check.cost), check.shadow ? '1' : '0'];
}

/** The script's keys and arguments for the checks of one client. */
export function scriptCall(prefix: string, clientKey: string, checks: readonly Check[]): { keys: string[]; args: string[] } {
  return { keys: clientKeys(prefix, clientKey, checks), args: checks.flatMap(checkArgs) };
}

/**
 * Maps the script's reply to one decision per check; throws on anything it does not recognise.
 */
export function toDecisions(reply: unknown, count: number): Decision[] {
  if (Array.isArray(reply) && reply.length === count * 3) {
    const decisions: Decision[] = [];
    for (let i = 0; i < reply.length; i += 3) {
      const kind = integer(reply[i]);
      const a = integer(reply[i + 1]);
      const b = integer(reply[i + 2]);
      if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b)) break;
      if (kind === 0) decisions.push({ allowed: true, remaining: a, resetMs: b });
      else if (kind === 1) decisions.push({ allowed: false, reason: 'limited', retryAfterMs: a });
      else if (kind === 2) decisions.push({ allowed: false, reason: 'blocked', retryAfterMs: a });
      else break;
    }
    if (decisions.length === count) return decisions;
  }
  throw new TypeError(`unexpected rate-limit script reply: ${JSON.stringify(reply)}`);
}

/** Integers arrive as numbers; a proxy that turns them into decimal strings is tolerated. */
function integer(value: unknown): number {
  if (typeof value === 'number') return value;
  return typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
}

/** Whether an error from Redis says the script is not in its script cache. */
export function isNoScriptError(error: unknown): boolean {
  return error instanceof Error && /NOSCRIPT/i.test(error.message);
}
