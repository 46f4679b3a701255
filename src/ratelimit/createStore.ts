import type { Logger } from '../log.js';
import { MemoryStore } from './memoryStore.js';
import { RedisStore } from './redis/redisStore.js';
import { UpstashStore } from './redis/upstashStore.js';
import { ResilientStore, type ResilientStoreOptions } from './resilientStore.js';
import type { RateLimitStore } from './store.js';
import { storeSettingsProblem, type StoreSettings } from './storeSettings.js';

export interface StoreConfig extends StoreSettings {
  /** `REDIS_KEY_PREFIX`; default `tollgate:`. */
  readonly keyPrefix?: string;
  /** `RATE_LIMIT_TIMEOUT_MS`: deadline of every shared-store call before failing open. */
  readonly timeoutMs: number;
  /**
   * Workers: one TCP connection per decision (workerd forbids sharing sockets between requests),
   * and EVAL rather than EVALSHA over REST, so a decision is always one round trip.
   */
  readonly connectionPerRequest?: boolean;
}

export interface StoreDeps {
  readonly log: Logger;
  readonly now?: () => number;
  /** Breaker, cache and logging settings of the ResilientStore (tests). */
  readonly resilience?: Omit<ResilientStoreOptions, 'timeoutMs' | 'log' | 'now'>;
}

/**
 * The configured store: in memory when no Redis is configured, else Redis over TCP or over
 * Upstash's REST protocol, wrapped in a `ResilientStore` (deadline, fail-open, circuit breaker,
 * local memory of blocks). Throws on a configuration it cannot honour, naming the variable.
 *
 * @example
 * const store = createStore({ redisUrl: env.REDIS_URL, timeoutMs: 50 }, { log });
 */
export function createStore(config: StoreConfig, deps: StoreDeps): RateLimitStore {
  const problem = storeSettingsProblem(config);
  if (problem) throw new Error(`${problem.variable}: expected ${problem.expected}`);
  if (!config.redisUrl && !config.redisClusterNodes?.length && !config.upstashUrl) return new MemoryStore(deps.now ? { now: deps.now } : {});
  const keyPrefix = config.keyPrefix;
  let inner: RateLimitStore;
  if (config.upstashUrl && config.upstashToken) {
    // On Workers (a connection per request) nothing loads the script at start: EVAL every time.
    inner = new UpstashStore({
      url: config.upstashUrl,
      token: config.upstashToken,
      keyPrefix,
      evalOnly: config.connectionPerRequest,
    });
  } else {
    const cluster = config.redisClusterNodes?.length ? config.redisClusterNodes : undefined;
    inner = new RedisStore({
      url: config.redisUrl,
      cluster,
      keyPrefix,
      connectionPerRequest: config.connectionPerRequest,
      log: deps.log,
    });
  }
  return new ResilientStore(inner, {
    ...deps.resilience,
    timeoutMs: config.timeoutMs,
    log: deps.log,
    now: deps.now,
  });
}
