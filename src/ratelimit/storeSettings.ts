/** The shared store's settings as configured: Redis over TCP, or Upstash over REST. */
export interface StoreSettings {
  /** `REDIS_URL`: `redis://` or `rediss://`, with password and db. */
  readonly redisUrl?: string | undefined;
  /** `REDIS_CLUSTER_NODES`: Redis Cluster seed nodes (`host:port` or URLs); instead of `redisUrl`. */
  readonly redisClusterNodes?: readonly string[] | undefined;
  /** `UPSTASH_REDIS_REST_URL` and `UPSTASH_REDIS_REST_TOKEN`. */
  readonly upstashUrl?: string | undefined;
  readonly upstashToken?: string | undefined;
}

/** What is wrong with the store's settings, naming the variable to change. */
export interface StoreSettingsProblem {
  readonly variable: string;
  readonly value: string;
  readonly expected: string;
}

/**
 * The one check of the Upstash settings and of the choice between TCP and REST, for the
 * configuration parser (a `ConfigError`) and `createStore` (which may be given settings directly).
 * Undefined when the settings can be honoured.
 */
export function storeSettingsProblem(settings: StoreSettings): StoreSettingsProblem | undefined {
  const { upstashUrl, upstashToken } = settings;
  if (upstashUrl && !/^https?:$/.test(URL.parse(upstashUrl)?.protocol ?? '')) {
    return { variable: 'UPSTASH_REDIS_REST_URL', value: upstashUrl, expected: 'an http:// or https:// URL' };
  }
  if (Boolean(upstashUrl) !== Boolean(upstashToken)) {
    const missing = upstashUrl ? 'UPSTASH_REDIS_REST_TOKEN' : 'UPSTASH_REDIS_REST_URL';
    return { variable: missing, value: '', expected: 'to be set together with the other UPSTASH_REDIS_REST_* variable' };
  }
  const tcp = Boolean(settings.redisUrl) || (settings.redisClusterNodes?.length ?? 0) > 0;
  if (tcp && upstashUrl) {
    return {
      variable: 'UPSTASH_REDIS_REST_URL',
      value: upstashUrl,
      expected: 'not to be set together with REDIS_URL or REDIS_CLUSTER_NODES (one shared store: TCP or REST)',
    };
  }
  return undefined;
}
