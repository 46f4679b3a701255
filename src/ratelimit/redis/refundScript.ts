import { refundWindowToleranceMs, type Limit, type Refund } from '../policy.js';
import { clientKeys, scriptPrelude } from './decideScript.js';

/**
 * A refund (`refundState` in ../policy.ts) as one Lua script: what several policies of one key
 * give back, atomically, in one round trip. Per refund, ARGV holds six values — the algorithm
 * (`f`, `s`, `t`), the limit, the window in ms or the refill per second, the amount given back,
 * the charge's `resetMs`, and the milliseconds since the charge — and KEYS the policy's keys, as
 * the decide script has them (./decideScript.ts; `clientKeys`). A last ARGV value is
 * `refundWindowToleranceMs`.
 *
 * - fixed window: while no block is on and the counter's PTTL is at most `resetMs` and within the
 *   tolerance of `resetMs − elapsed` (the window charged is the open one), the count goes down,
 *   not below 0, its expiry kept;
 * - sliding window: while the current window (by `TIME`) is the stored one and what is left of it
 *   is at most `resetMs`, its count goes down, not below 0;
 * - token bucket: refilled to now, then `amount` more, the capacity at most; a full bucket's key
 *   is deleted (a missing bucket reads as full), another's expiry moved to when it will be full.
 *
 * Returns 0.
 */
export const refundScript = `${scriptPrelude}local k = 1
local tolerance = tonumber(ARGV[#ARGV])
for i = 1, (#ARGV - 1) / 6 do
  local a = (i - 1) * 6
  local algo, limit, param = ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local amount, reset, elapsed = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5]), tonumber(ARGV[a + 6])
  if algo == 'f' then
    local blockKey, countKey = KEYS[k], KEYS[k + 1]
    k = k + 2
    if redis.call('PTTL', blockKey) <= 0 then
      local pttl = redis.call('PTTL', countKey)
      if pttl > 0 and pttl <= reset and math.abs(pttl - (reset - elapsed)) <= tolerance then
        local count = tonumber(redis.call('GET', countKey)) or 0
        if count > 0 then
          local left = count - amount
          if left < 0 then left = 0 end
          redis.call('SET', countKey, left, 'PX', pttl)
        end
      end
    end
  elseif algo == 's' then
    local key = KEYS[k]
    k = k + 1
    local t, w = clock(), param
    local window = math.floor(t / w)
    local h = redis.call('HMGET', key, 'w', 'c')
    local current = tonumber(h[2]) or 0
    if tonumber(h[1]) == window and (window + 1) * w - t <= reset and current > 0 then
      current = current - amount
      if current < 0 then current = 0 end
      redis.call('HSET', key, 'c', current)
    end
  else
    local key = KEYS[k]
    k = k + 1
    local t = clock()
    local h = redis.call('HMGET', key, 't', 'u')
    local stored, updated = tonumber(h[1]), tonumber(h[2])
    if stored and updated then
      local dt = t - updated
      if dt < 0 then dt = 0 end
      if dt < math.ceil(((limit - stored) * 1000) / param) then
        local tokens = math.min(limit, stored + (dt * param) / 1000 + amount)
        local full = math.ceil(((limit - tokens) * 1000) / param)
        if full <= 0 then
          redis.call('DEL', key)
        else
          redis.call('HSET', key, 't', string.format('%.17g', tokens), 'u', t)
          redis.call('PEXPIREAT', key, t + full)
        end
      end
    end
  end
end
return 0
`;

/** The refund script's SHA-1 (test/unit/decide-script.test.ts checks it against the script). */
export const refundScriptSha1 = '863a9bcbb9cc15f156ce672fe7135f3b0809cba3';

/** The script's keys and arguments for the refunds of one client. */
export function refundCall(prefix: string, clientKey: string, refunds: readonly Refund[]): { keys: string[]; args: string[] } {
  return {
    keys: clientKeys(
      prefix,
      clientKey,
      refunds.map((r) => r.check),
    ),
    args: [
      ...refunds.flatMap((r) => [
        ...limitArgs(r.check.limit),
        String(r.amount),
        String(Math.ceil(r.resetMs)),
        String(Math.round(r.elapsedMs)),
      ]),
      String(refundWindowToleranceMs),
    ],
  };
}

function limitArgs(limit: Limit): [string, string, string] {
  if (limit.algorithm === 'token-bucket') return ['t', String(limit.limit), String(limit.refillPerSecond)];
  if (limit.algorithm === 'sliding-window') return ['s', String(limit.limit), String(Math.ceil(limit.windowMs))];
  return ['f', String(limit.limit), String(Math.ceil(limit.windowMs))];
}
