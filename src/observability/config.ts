import { ConfigError, type Config, type Env, type Platform } from '../config.js';

/**
 * The observability settings. Read here from the same environment as `parseConfig`,
 * with the same rules (trimmed, empty = unset, `ConfigError` naming the variable), until they
 * move into `Config`.
 */
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

/**
 * @example parseObservabilityConfig(process.env, parseConfig(process.env, 'node'), 'node').metricsEndpoint
 */
export function parseObservabilityConfig(
  env: Env,
  config: Pick<Config, 'environment' | 'port' | 'host'>,
  platform: Platform,
): ObservabilityConfig {
  const read = (name: string): string | undefined => {
    const value = env[name];
    if (typeof value !== 'string') return undefined;
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  };
  const development = config.environment === 'development';

  const metricsToken = read('METRICS_TOKEN');
  if (metricsToken !== undefined && (metricsToken.length < minMetricsTokenLength || /\s/.test(metricsToken))) {
    // The message must not echo the secret.
    throw new ConfigError('METRICS_TOKEN', '…', `at least ${minMetricsTokenLength} characters without spaces`);
  }

  const portText = read('METRICS_PORT');
  let metricsPort: number | undefined;
  if (portText !== undefined) {
    metricsPort = /^\d+$/.test(portText) ? Number(portText) : NaN;
    if (!Number.isSafeInteger(metricsPort) || metricsPort > 65_535) {
      throw new ConfigError('METRICS_PORT', portText, 'a whole number from 0 to 65535 (0: any free port)');
    }
    if (metricsPort !== 0 && metricsPort === config.port) {
      throw new ConfigError('METRICS_PORT', portText, `a port other than PORT (${config.port})`);
    }
  }

  const logClientIpText = read('LOG_CLIENT_IP');
  let logClientIp = false;
  if (logClientIpText !== undefined) {
    const lower = logClientIpText.toLowerCase();
    if (['true', 'on', '1', 'yes'].includes(lower)) logClientIp = true;
    else if (!['false', 'off', '0', 'no'].includes(lower)) {
      throw new ConfigError('LOG_CLIENT_IP', logClientIpText, 'true/false (or on/off, 1/0, yes/no)');
    }
  }

  const metricsEndpoint: MetricsEndpoint =
    platform === 'worker'
      ? 'off'
      : metricsPort !== undefined
        ? 'metrics-port'
        : metricsToken !== undefined || development
          ? 'gateway-port'
          : 'off';

  return {
    metricsToken,
    metricsPort,
    metricsHost: read('METRICS_HOST') ?? config.host,
    metricsEndpoint,
    logClientIp,
    logSalt: read('LOG_SALT'),
    graphiql: development,
  };
}
