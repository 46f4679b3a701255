import { logLevels, type LogLevel } from './log.js';
import { defaultGatewayLifecycle, type GatewayLifecycle } from './gateway/lifecycle.js';
import type { QueryPlanner } from './gateway/planner.js';
import type { RateLimitPolicy } from './ratelimit/policy.js';
import { defaultPolicies, parsePolicies, PolicyError, type PolicySpec } from './ratelimit/policies.js';
import { bindingPolicyProblem } from './ratelimit/rateLimitBinding/policies.js';
import { defaultKeyPrefix } from './ratelimit/redis/decideScript.js';
import { storeSettingsProblem } from './ratelimit/storeSettings.js';
import { parseTrustProxy, type TrustProxy } from './identity/trustProxy.js';
import { identitySources, type IdentitySource } from './identity/identity.js';
import { noApiKeys, parseApiKeys, type ApiKeyTable } from './identity/apiKeys.js';
import type { JwtConfig } from './identity/jwt.js';
import { defaultLimits, type SecurityLimits } from './security/limits.js';

/** The rate-limit stores `RATE_LIMIT_STORE` names. */
export const storeKinds = ['memory', 'redis', 'upstash', 'durable-object', 'cloudflare'] as const;
export type StoreKind = (typeof storeKinds)[number];

/** Where the gateway runs: decides the defaults that differ between Node and Workers. */
export type Platform = 'node' | 'worker';

export interface Config {
  /** The platform the configuration was read for. */
  readonly platform: Platform;
  readonly environment: 'development' | 'production';
  /** Path, URL or (Workers) undefined for the bundled supergraph. Undefined on Node: the demo. */
  readonly supergraph: string | undefined;
  /**
   * Workers: whether a supergraph may name subgraphs on loopback or literal private addresses,
   * which a deployed Worker cannot reach (on in development and tests). Node: always allowed.
   */
  readonly allowPrivateSubgraphs: boolean;
  /** How the supergraph is fetched and refreshed (`SUPERGRAPH_*`; docs/architecture.md, "Supergraph sources"). */
  readonly supergraphSource: SupergraphSourceConfig;
  readonly redisUrl: string | undefined;
  /** Redis Cluster seed nodes (`host:port`), instead of `redisUrl`. Node only. */
  readonly redisClusterNodes: readonly string[] | undefined;
  readonly redisKeyPrefix: string;
  readonly upstashUrl: string | undefined;
  readonly upstashToken: string | undefined;
  /** `RATE_LIMIT_STORE`: where limits are kept; inferred from the settings present when unset. */
  readonly rateLimitStore: StoreKind;
  /** `RATE_LIMIT_DURABLE_OBJECT`: the Durable Object namespace binding of the `durable-object` store. */
  readonly durableObjectBinding: string;
  /**
   * `RATE_LIMIT_BINDING`: the Rate Limiting binding of the `default` policy when
   * `RATE_LIMIT_POLICIES` is unset (`cloudflare` store); a policy list names its own.
   */
  readonly rateLimitBinding: string;
  readonly rateLimitEnabled: boolean;
  /** The `RATE_LIMIT_*` figures: the `default` policy when `RATE_LIMIT_POLICIES` is unset. */
  readonly policy: RateLimitPolicy;
  /** `RATE_LIMIT_POLICIES`, or the one `default` policy on the address from `policy`. */
  readonly policies: readonly PolicySpec[];
  /** Query cost (docs/architecture.md, "Query cost"). */
  readonly cost: CostConfig;
  readonly rateLimitTimeoutMs: number;
  /** Node: how long start-up waits for the shared store to connect before serving anyway. */
  readonly rateLimitStartupWaitMs: number;
  /** `*` or exact origins (scheme://host[:port]). */
  readonly corsOrigins: '*' | readonly string[];
  readonly trustProxy: TrustProxy;
  /** Who is asking: the identity sources, JWT and API-key settings (docs/architecture.md, "Identity"). */
  readonly identity: IdentityConfig;
  readonly gatewayLifecycle: GatewayLifecycle;
  /** `js`: the runtime's own planner; `rust`: Hive Router's (a native addon, Node only). */
  readonly queryPlanner: QueryPlanner;
  readonly port: number;
  readonly host: string;
  readonly logLevel: LogLevel;
  /** Request and operation limits, introspection, suggestions, upstream timeout (docs/architecture.md, "Security limits"). */
  readonly security: SecurityLimits;
  /** Metrics endpoint, client keys in logs, GraphiQL. */
  readonly observability: ObservabilityConfig;
}

/** The query-cost settings (`Config.cost`). */
export interface CostConfig {
  /** `MAX_COST`: an operation estimated above it is answered 400; undefined: no ceiling. */
  readonly maxCost: number | undefined;
  /** `COST_DEFAULT_LIST_SIZE`: items assumed in a list with no slicing argument or `assumedSize`. */
  readonly defaultListSize: number;
  /**
   * `COST_EXTENSIONS`: executed operations' responses carry `extensions.cost` (requested and
   * actual cost, the cost budget's state) when a cost policy applies.
   */
  readonly extensions: boolean;
}

/** The identity settings (`Config.identity`). */
export interface IdentityConfig {
  /** `RATE_LIMIT_IDENTITY`: the sources, in order; the address decides when none yields an identity. */
  readonly sources: readonly IdentitySource[];
  /** JWT verification, when `JWT_JWKS_URL` or `JWT_SECRET` is set. */
  readonly jwt: JwtConfig | undefined;
  /** `JWT_REQUIRED`: `/graphql` answers 401 without a valid token (or, with `API_KEY_REQUIRED`, key). */
  readonly jwtRequired: boolean;
  /** `API_KEY_HEADER`, lowercase. */
  readonly apiKeyHeader: string;
  /** `API_KEYS`: SHA-256 digests of the keys and what they stand for. */
  readonly apiKeys: ApiKeyTable;
  readonly apiKeyRequired: boolean;
}

/** Shortest `JWT_SECRET` accepted: HS256 wants a key of at least 256 bits. */
export const minJwtSecretLength = 32;

/** The `SUPERGRAPH_*` settings (`Config.supergraphSource`). */
export interface SupergraphSourceConfig {
  /** A URL is polled this often; on Workers, the age after which the graph is refreshed in the background. */
  readonly pollMs: number;
  /** Sent as `Authorization` when fetching a `SUPERGRAPH` URL. */
  readonly authorization: string | undefined;
  /** Hive CDN (`HIVE_CDN_ENDPOINT`, `HIVE_CDN_KEY`), instead of `SUPERGRAPH`. */
  readonly hiveCdn: { readonly endpoint: string; readonly key: string } | undefined;
  /** Apollo GraphOS (`APOLLO_KEY`, `APOLLO_GRAPH_REF`; `APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT`), instead of `SUPERGRAPH`. */
  readonly graphos: { readonly apiKey: string; readonly graphRef: string; readonly endpoint: string | undefined } | undefined;
  /** A larger supergraph is refused (the download is cut off there). */
  readonly maxBytes: number;
  /** The deadline of one fetch of a `SUPERGRAPH` URL, headers and body. */
  readonly timeoutMs: number;
}

/** The observability settings (`Config.observability`). */
export interface ObservabilityConfig {
  /** `METRICS_TOKEN`: `/metrics` answers only `Authorization: Bearer <token>`. */
  readonly metricsToken: string | undefined;
  /** `METRICS_PORT`: serve `/metrics` on its own listener (Node), not on the gateway's port. */
  readonly metricsPort: number | undefined;
  /** `METRICS_HOST`: that listener's address; default `HOST`. */
  readonly metricsHost: string;
  /** Where `/metrics` is served (Node); Workers have no scrape endpoint. */
  readonly metricsEndpoint: MetricsEndpoint;
  /** `LOG_CLIENT_IP=true`: log the client key as it is; else as a salted hash. */
  readonly logClientIp: boolean;
  /** `LOG_SALT`: the secret mixed into client-key hashes; unset: random per process or isolate. */
  readonly logSalt: string | undefined;
  /** GraphiQL on `/graphql` for browsers: in development only. */
  readonly graphiql: boolean;
}

/**
 * - `gateway-port`: on the gateway's own port, exempt from rate limiting (with a token in
 *   production; open in development);
 * - `metrics-port`: on `METRICS_PORT` only (token checked too when set);
 * - `off`: production without `METRICS_TOKEN` or `METRICS_PORT`, and Workers.
 */
export type MetricsEndpoint = 'gateway-port' | 'metrics-port' | 'off';

/** Shortest `METRICS_TOKEN` accepted: a bearer token must not be guessable. */
export const minMetricsTokenLength = 16;

export type Env = Readonly<Record<string, unknown>>;

/** A bad configuration value; the message names the variable and what it expects. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    value: string,
    expected: string,
  ) {
    super(`Invalid ${variable}=${JSON.stringify(value)}: expected ${expected}`);
  }
}

/**
 * Reads and validates the whole configuration once; throws `ConfigError` on the first bad value.
 *
 * @example parseConfig(process.env, 'node').policy.limit // 50
 */
export function parseConfig(env: Env, platform: Platform): Config {
  const read = (name: string): string | undefined => {
    const value = env[name];
    if (typeof value !== 'string') return undefined;
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  };

  const environment = oneOf(read, 'ENVIRONMENT', 'production', {
    development: 'development',
    dev: 'development',
    production: 'production',
    prod: 'production',
  });
  const development = environment === 'development';

  const redisUrl = read('REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\/[^\s]+$/i.test(redisUrl)) {
    throw new ConfigError('REDIS_URL', redisUrl, 'a redis:// or rediss:// URL');
  }
  const clusterNodes = read('REDIS_CLUSTER_NODES')
    ?.split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  for (const node of clusterNodes ?? []) {
    if (!/^(rediss?:\/\/)?[^\s/:]+:\d{1,5}\/?$/i.test(node)) {
      throw new ConfigError('REDIS_CLUSTER_NODES', node, 'comma-separated host:port seed nodes (or redis:// URLs)');
    }
  }
  if (redisUrl !== undefined && clusterNodes !== undefined) {
    throw new ConfigError('REDIS_CLUSTER_NODES', clusterNodes.join(','), 'not to be set together with REDIS_URL');
  }
  const upstashUrl = read('UPSTASH_REDIS_REST_URL');
  const upstashToken = read('UPSTASH_REDIS_REST_TOKEN');
  const storeProblem = storeSettingsProblem({ redisUrl, redisClusterNodes: clusterNodes, upstashUrl, upstashToken });
  if (storeProblem) throw new ConfigError(storeProblem.variable, storeProblem.value, storeProblem.expected);
  const rateLimitStore = storeKind(read('RATE_LIMIT_STORE'), platform, {
    redis: redisUrl !== undefined || clusterNodes !== undefined,
    upstash: upstashUrl !== undefined,
  });

  const supergraph = read('SUPERGRAPH');
  const [hiveEndpoint, hiveKey] = urlWithSecret(read, 'HIVE_CDN_ENDPOINT', 'HIVE_CDN_KEY', 'HIVE_CDN_*');
  const apolloKey = read('APOLLO_KEY');
  const graphRef = read('APOLLO_GRAPH_REF');
  if ((apolloKey === undefined) !== (graphRef === undefined)) {
    throw new ConfigError(
      apolloKey === undefined ? 'APOLLO_KEY' : 'APOLLO_GRAPH_REF',
      '',
      'to be set together with the other of APOLLO_KEY and APOLLO_GRAPH_REF',
    );
  }
  const uplink = read('APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT')?.split(',')[0]?.trim();
  if (uplink !== undefined && !isHttpUrl(uplink))
    throw new ConfigError('APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT', uplink, 'an http:// or https:// URL');
  const sources = [supergraph && 'SUPERGRAPH', hiveEndpoint && 'HIVE_CDN_ENDPOINT', graphRef && 'APOLLO_GRAPH_REF'].filter(Boolean);
  if (sources.length > 1) throw new ConfigError(String(sources[1]), '', `not to be set together with ${sources[0]}: one supergraph source`);
  const port = int(read, 'PORT', 4000, 0, 65_535);
  const host = read('HOST') ?? '0.0.0.0';
  const policy: RateLimitPolicy = {
    limit: int(read, 'RATE_LIMIT_MAX_REQUESTS', 50, 1, 1_000_000_000),
    windowMs: int(read, 'RATE_LIMIT_WINDOW_SECONDS', 60, 1, 86_400 * 365) * 1000,
    penaltyMs: int(read, 'RATE_LIMIT_PENALTY_SECONDS', 40, 0, 86_400 * 365) * 1000,
  };
  const rateLimitBinding = read('RATE_LIMIT_BINDING') ?? 'RL_DEFAULT';
  const policiesText = jsonText(env['RATE_LIMIT_POLICIES']);
  const policies = policiesConfig(policiesText, policy, rateLimitStore === 'cloudflare' ? rateLimitBinding : undefined);
  if (rateLimitStore === 'cloudflare') checkBindingPolicies(policies, policiesText !== '', read);

  return {
    platform,
    environment,
    supergraph,
    allowPrivateSubgraphs: bool(read, 'ALLOW_PRIVATE_SUBGRAPHS', development || platform === 'node'),
    supergraphSource: {
      pollMs: int(read, 'SUPERGRAPH_POLL_SECONDS', 60, 1, 86_400) * 1000,
      authorization: read('SUPERGRAPH_AUTHORIZATION'),
      hiveCdn: hiveEndpoint !== undefined && hiveKey !== undefined ? { endpoint: hiveEndpoint, key: hiveKey } : undefined,
      graphos: apolloKey !== undefined && graphRef !== undefined ? { apiKey: apolloKey, graphRef, endpoint: uplink } : undefined,
      maxBytes: int(read, 'SUPERGRAPH_MAX_BYTES', 10 * 1024 * 1024, 1024, 1_073_741_824),
      timeoutMs: int(read, 'SUPERGRAPH_TIMEOUT_MS', 10_000, 1, 600_000),
    },
    redisUrl,
    redisClusterNodes: clusterNodes?.length ? clusterNodes : undefined,
    redisKeyPrefix: read('REDIS_KEY_PREFIX') ?? defaultKeyPrefix,
    upstashUrl,
    upstashToken,
    rateLimitStore,
    durableObjectBinding: read('RATE_LIMIT_DURABLE_OBJECT') ?? 'RATE_LIMITER',
    rateLimitBinding,
    rateLimitEnabled: bool(read, 'RATE_LIMIT_ENABLED', !development),
    policy,
    policies,
    cost: {
      maxCost: read('MAX_COST') === undefined ? undefined : int(read, 'MAX_COST', 0, 1, Number.MAX_SAFE_INTEGER),
      defaultListSize: int(read, 'COST_DEFAULT_LIST_SIZE', 10, 0, 1_000_000),
      extensions: bool(read, 'COST_EXTENSIONS', false),
    },
    rateLimitTimeoutMs: int(read, 'RATE_LIMIT_TIMEOUT_MS', 50, 1, 60_000),
    rateLimitStartupWaitMs: int(read, 'RATE_LIMIT_STARTUP_WAIT_MS', 5000, 0, 600_000),
    corsOrigins: corsOrigins(read('CORS_ORIGINS')),
    trustProxy: trustProxy(read('TRUST_PROXY') ?? (platform === 'worker' ? 'cloudflare' : 'none')),
    identity: identityConfig(read),
    gatewayLifecycle: oneOf(read, 'GATEWAY_LIFECYCLE', defaultGatewayLifecycle, {
      request: 'request',
      isolate: 'isolate',
    }),
    queryPlanner: oneOf<QueryPlanner>(
      read,
      'QUERY_PLANNER',
      platform === 'worker' ? 'js' : 'rust',
      platform === 'worker' ? { js: 'js' } : { js: 'js', rust: 'rust' },
    ),
    port,
    host,
    logLevel: oneOf(read, 'LOG_LEVEL', 'info', Object.fromEntries(logLevels.map((l) => [l, l])) as Record<string, LogLevel>),
    security: {
      maxBodyBytes: int(read, 'MAX_BODY_BYTES', defaultLimits.maxBodyBytes, 1, 1_073_741_824),
      maxDepth: int(read, 'MAX_DEPTH', defaultLimits.maxDepth, 0, 1_000),
      maxTokens: int(read, 'MAX_TOKENS', defaultLimits.maxTokens, 0, 1_000_000),
      maxAliases: int(read, 'MAX_ALIASES', defaultLimits.maxAliases, 0, 100_000),
      maxDirectives: int(read, 'MAX_DIRECTIVES', defaultLimits.maxDirectives, 0, 100_000),
      batchLimit: int(read, 'BATCH_LIMIT', defaultLimits.batchLimit, 0, 1_000),
      introspection: bool(read, 'INTROSPECTION', development),
      fieldSuggestions: bool(read, 'FIELD_SUGGESTIONS', development),
      upstreamTimeoutMs: int(read, 'UPSTREAM_TIMEOUT_MS', defaultLimits.upstreamTimeoutMs, 1, 600_000),
    },
    observability: observabilityConfig(read, { development, port, host, platform }),
  };
}

/**
 * `RATE_LIMIT_STORE`, checked against the settings it needs; unset: Upstash when its settings are
 * there, Redis when `REDIS_URL` or `REDIS_CLUSTER_NODES` is, else memory.
 */
function storeKind(value: string | undefined, platform: Platform, present: { redis: boolean; upstash: boolean }): StoreKind {
  if (value === undefined) return present.upstash ? 'upstash' : present.redis ? 'redis' : 'memory';
  const kind = storeKinds.find((k) => k === value.toLowerCase());
  if (kind === undefined) throw new ConfigError('RATE_LIMIT_STORE', value, storeKinds.join(', '));
  if (kind === 'redis' && !present.redis)
    throw new ConfigError('RATE_LIMIT_STORE', value, 'REDIS_URL or REDIS_CLUSTER_NODES to be set for redis');
  if (kind === 'upstash' && !present.upstash)
    throw new ConfigError('RATE_LIMIT_STORE', value, 'UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN to be set for upstash');
  if (kind === 'durable-object' && platform !== 'worker')
    throw new ConfigError('RATE_LIMIT_STORE', value, 'durable-object only on Workers');
  if (kind === 'cloudflare' && platform !== 'worker')
    throw new ConfigError('RATE_LIMIT_STORE', value, 'cloudflare (the Rate Limiting binding) only on Workers');
  return kind;
}

/**
 * `RATE_LIMIT_STORE=cloudflare`: the policies must be ones a Rate Limiting binding can count
 * (src/ratelimit/rateLimitBinding/policies.ts). The error names the variable at fault: the policy
 * list, or for the `default` policy the `RATE_LIMIT_*` figure.
 */
function checkBindingPolicies(policies: readonly PolicySpec[], listed: boolean, read: Read): void {
  const problem = bindingPolicyProblem(policies);
  if (!problem) return;
  const variable = listed
    ? 'RATE_LIMIT_POLICIES'
    : problem.field === 'penalty'
      ? 'RATE_LIMIT_PENALTY_SECONDS'
      : problem.field === 'window'
        ? 'RATE_LIMIT_WINDOW_SECONDS'
        : 'RATE_LIMIT_BINDING';
  const error = new ConfigError(variable, listed ? '' : (read(variable) ?? ''), 'a policy a Rate Limiting binding can count');
  error.message = `Invalid ${variable}: ${problem.message}`;
  throw error;
}

/** A variable holding JSON as text: text (a file's, on Node), or on Workers a JSON variable, which arrives parsed. '' when unset. */
function jsonText(value: unknown): string {
  return typeof value === 'string' ? value.trim() : value === undefined || value === null ? '' : JSON.stringify(value);
}

/**
 * `RATE_LIMIT_POLICIES`, as JSON text. Unset: the one `default` policy from the `RATE_LIMIT_*`
 * figures (counted by `binding` with the `cloudflare` store).
 */
function policiesConfig(text: string, policy: RateLimitPolicy, binding: string | undefined): readonly PolicySpec[] {
  if (text === '') return defaultPolicies(policy, binding);
  try {
    return parsePolicies(text);
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
    const problem = new ConfigError('RATE_LIMIT_POLICIES', shown, 'a valid policy list');
    problem.message = `Invalid RATE_LIMIT_POLICIES: ${error.message}`;
    throw problem;
  }
}

function observabilityConfig(
  read: Read,
  config: { readonly development: boolean; readonly port: number; readonly host: string; readonly platform: Platform },
): ObservabilityConfig {
  const metricsToken = read('METRICS_TOKEN');
  if (metricsToken !== undefined && (metricsToken.length < minMetricsTokenLength || /\s/.test(metricsToken))) {
    // The message must not echo the secret.
    throw new ConfigError('METRICS_TOKEN', '…', `at least ${minMetricsTokenLength} characters without spaces`);
  }
  const metricsPort = read('METRICS_PORT') === undefined ? undefined : int(read, 'METRICS_PORT', 0, 0, 65_535);
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === config.port) {
    throw new ConfigError('METRICS_PORT', String(metricsPort), `a port other than PORT (${config.port})`);
  }
  const metricsEndpoint: MetricsEndpoint =
    config.platform === 'worker'
      ? 'off'
      : metricsPort !== undefined
        ? 'metrics-port'
        : metricsToken !== undefined || config.development
          ? 'gateway-port'
          : 'off';
  return {
    metricsToken,
    metricsPort,
    metricsHost: read('METRICS_HOST') ?? config.host,
    metricsEndpoint,
    logClientIp: bool(read, 'LOG_CLIENT_IP', false),
    logSalt: read('LOG_SALT'),
    graphiql: config.development,
  };
}

type Read = (name: string) => string | undefined;

function identityConfig(read: Read): IdentityConfig {
  const listed = read('RATE_LIMIT_IDENTITY') ?? 'ip';
  const sources = listed
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const expected = `comma-separated sources from ${identitySources.join(', ')}, each once`;
  if (sources.length === 0 || new Set(sources).size !== sources.length) throw new ConfigError('RATE_LIMIT_IDENTITY', listed, expected);
  for (const source of sources) {
    if (!(identitySources as readonly string[]).includes(source)) throw new ConfigError('RATE_LIMIT_IDENTITY', listed, expected);
  }
  const wanted = sources as IdentitySource[];

  const jwksUrl = read('JWT_JWKS_URL');
  const secret = read('JWT_SECRET');
  if (jwksUrl !== undefined && !isHttpUrl(jwksUrl)) throw new ConfigError('JWT_JWKS_URL', jwksUrl, 'an http:// or https:// URL');
  if (jwksUrl !== undefined && secret !== undefined) {
    throw new ConfigError('JWT_SECRET', '…', 'not to be set together with JWT_JWKS_URL (one source of keys)');
  }
  if (secret !== undefined && new TextEncoder().encode(secret).length < minJwtSecretLength) {
    throw new ConfigError('JWT_SECRET', '…', `at least ${minJwtSecretLength} bytes (HS256 wants a 256-bit key)`);
  }
  const jwtRequired = bool(read, 'JWT_REQUIRED', false);
  const jwt: JwtConfig | undefined =
    jwksUrl === undefined && secret === undefined
      ? undefined
      : {
          jwksUrl,
          secret,
          issuer: read('JWT_ISSUER'),
          audience: read('JWT_AUDIENCE'),
          identityClaim: read('JWT_IDENTITY_CLAIM') ?? 'sub',
          tierClaim: read('JWT_TIER_CLAIM'),
          clockToleranceSeconds: int(read, 'JWT_CLOCK_TOLERANCE_SECONDS', 30, 0, 3600),
          jwksTimeoutMs: int(read, 'JWT_JWKS_TIMEOUT_MS', 1000, 1, 60_000),
          jwksCooldownMs: int(read, 'JWT_JWKS_COOLDOWN_SECONDS', 30, 0, 86_400) * 1000,
        };
  if (jwt === undefined && (wanted.includes('jwt') || jwtRequired)) {
    const variable = wanted.includes('jwt') ? 'RATE_LIMIT_IDENTITY' : 'JWT_REQUIRED';
    throw new ConfigError(variable, read(variable) ?? '', 'JWT_JWKS_URL or JWT_SECRET to be set (tokens need keys to be verified)');
  }

  const apiKeyHeader = (read('API_KEY_HEADER') ?? 'x-api-key').toLowerCase();
  if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(apiKeyHeader)) throw new ConfigError('API_KEY_HEADER', apiKeyHeader, 'a header name');
  const keysText = read('API_KEYS');
  let apiKeys = noApiKeys;
  if (keysText !== undefined) {
    const parsed = parseApiKeys(keysText);
    if (typeof parsed === 'string')
      throw new ConfigError('API_KEYS', keysText.length > 40 ? `${keysText.slice(0, 40)}…` : keysText, parsed);
    apiKeys = parsed;
  }
  const apiKeyRequired = bool(read, 'API_KEY_REQUIRED', false);
  if (apiKeys.size === 0 && (wanted.includes('api-key') || apiKeyRequired)) {
    const variable = wanted.includes('api-key') ? 'RATE_LIMIT_IDENTITY' : 'API_KEY_REQUIRED';
    throw new ConfigError(variable, read(variable) ?? '', 'API_KEYS to list at least one key');
  }
  return { sources: wanted, jwt, jwtRequired, apiKeyHeader, apiKeys, apiKeyRequired };
}

/** An http(s) URL and the secret that goes with it: both set or neither. */
function urlWithSecret(read: Read, urlName: string, secretName: string, family: string): [string | undefined, string | undefined] {
  const url = read(urlName);
  const secret = read(secretName);
  if (url !== undefined && !isHttpUrl(url)) throw new ConfigError(urlName, url, 'an http:// or https:// URL');
  if ((url === undefined) !== (secret === undefined)) {
    throw new ConfigError(url === undefined ? urlName : secretName, '', `to be set together with the other ${family} variable`);
  }
  return [url, secret];
}

function oneOf<T extends string>(read: Read, name: string, fallback: T, accepted: Record<string, T>): T {
  const value = read(name);
  if (value === undefined) return fallback;
  const found = accepted[value.toLowerCase()];
  if (found === undefined) throw new ConfigError(name, value, `one of ${Object.keys(accepted).join(', ')}`);
  return found;
}

function int(read: Read, name: string, fallback: number, min: number, max: number): number {
  const value = read(name);
  if (value === undefined) return fallback;
  const parsed = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(name, value, `a whole number from ${min} to ${max}`);
  }
  return parsed;
}

function bool(read: Read, name: string, fallback: boolean): boolean {
  const value = read(name);
  if (value === undefined) return fallback;
  const lower = value.toLowerCase();
  if (['true', 'on', '1', 'yes'].includes(lower)) return true;
  if (['false', 'off', '0', 'no'].includes(lower)) return false;
  throw new ConfigError(name, value, 'true/false (or on/off, 1/0, yes/no)');
}

function corsOrigins(value: string | undefined): '*' | string[] {
  if (value === undefined || value === '*') return '*';
  const origins = value
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) {
    if (!isOrigin(origin)) {
      throw new ConfigError('CORS_ORIGINS', value, `"*" or comma-separated origins like https://app.example.com (bad: ${origin})`);
    }
  }
  if (origins.length === 0) throw new ConfigError('CORS_ORIGINS', value, '"*" or at least one origin');
  return origins;
}

/** An origin is exactly scheme://host[:port], nothing after it. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function trustProxy(value: string): TrustProxy {
  const parsed = parseTrustProxy(value);
  if (parsed === undefined) {
    throw new ConfigError('TRUST_PROXY', value, '"cloudflare", "none", a hop count, or comma-separated IPs/CIDRs');
  }
  return parsed;
}

/** Whether the supergraph setting is a URL (fetched) rather than a file path. */
export function isUrl(value: string): boolean {
  return isHttpUrl(value);
}
