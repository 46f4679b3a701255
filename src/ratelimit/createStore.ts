import type { Logger } from '../log.js';
import { DurableObjectStore, type RateLimiterNamespace } from './durableObject/store.js';
import { MemoryStore } from './memoryStore.js';
import { RateLimitBindingStore, type RateLimitBinding } from './rateLimitBinding/store.js';
import { RedisStore } from './redis/redisStore.js';
import { UpstashStore } from './redis/upstashStore.js';
import { ResilientStore, type ResilientStoreOptions } from './resilientStore.js';
import type { RateLimitStore } from './store.js';
import { storeSettingsProblem, type StoreSettings } from './storeSettings.js';

export interface StoreConfig extends StoreSettings {
  /** `RATE_LIMIT_STORE`; default: inferred from the settings (Upstash, Redis, else memory). */
  readonly kind?: 'memory' | 'redis' | 'upstash' | 'durable-object' | 'cloudflare';
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
  /** Workers: the Durable Object namespace binding of the `durable-object` store. */
  readonly durableObjects?: RateLimiterNamespace;
  /** Workers: the Rate Limiting bindings the policies name, by name (the `cloudflare` store). */
  readonly rateLimitBindings?: Readonly<Record<string, RateLimitBinding>>;
}

/**
 * The configured store: in memory, or Redis over TCP, over Upstash's REST protocol, a Durable
 * Object per client key, or Cloudflare's Rate Limiting bindings, each shared store wrapped in a `ResilientStore` (deadline, fail-open,
 * circuit breaker, local memory of blocks). Throws on a configuration it cannot honour, naming the
 * variable.
 *
 * @example
 * const store = createStore({ redisUrl: env.REDIS_URL, timeoutMs: 50 }, { log });
 */
export function createStore(config: StoreConfig, deps: StoreDeps): RateLimitStore {
  const problem = storeSettingsProblem(config);
  if (problem) throw new Error(`${problem.variable}: expected ${problem.expected}`);
  const kind = config.kind ?? (config.upstashUrl ? 'upstash' : config.redisUrl || config.redisClusterNodes?.length ? 'redis' : 'memory');
  if (kind === 'memory') return new MemoryStore(deps.now ? { now: deps.now } : {});
  const keyPrefix = config.keyPrefix;
  let inner: RateLimitStore;
  if (kind === 'durable-object') {
    if (!deps.durableObjects) {
      throw new Error('RATE_LIMIT_STORE=durable-object: no Durable Object namespace bound (RATE_LIMIT_DURABLE_OBJECT, wrangler.toml)');
    }
    inner = new DurableObjectStore(deps.durableObjects);
  } else if (kind === 'cloudflare') {
    if (!deps.rateLimitBindings) throw new Error('RATE_LIMIT_STORE=cloudflare: no Rate Limiting bindings ([[ratelimits]], wrangler.toml)');
    inner = new RateLimitBindingStore(deps.rateLimitBindings);
  } else if (kind === 'upstash') {
    if (!config.upstashUrl || !config.upstashToken)
      throw new Error('RATE_LIMIT_STORE=upstash: UPSTASH_REDIS_REST_URL and _TOKEN are not set');
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
    // On Workers a timer ends with the request that set it: each call keeps its own.
    deadlineTimer: config.connectionPerRequest ? 'per-call' : 'shared',
    ...deps.resilience,
    timeoutMs: config.timeoutMs,
    log: deps.log,
    now: deps.now,
  });
}
