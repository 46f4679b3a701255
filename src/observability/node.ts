import type { Config } from '../config.js';
import type { Handler } from '../lifecycle/handle.js';
import type { Logger } from '../log.js';
import type { RateLimitStore } from '../ratelimit/store.js';
import type { TollgateDeps } from '../tollgate.js';
import type { ObservabilityConfig } from '../config.js';
import { supergraphLocation } from '../supergraph/location.js';
import { graphiqlOptions, renderOfflineGraphiQL } from './graphiql.js';
import { metricsPath, metricsRoute, startMetricsServer, type MetricsServer } from './metricsEndpoint.js';
import { createObservability } from './observability.js';
import { createPrometheusMetrics, type PrometheusMetrics } from './prometheus.js';

export interface NodeObservability {
  readonly config: ObservabilityConfig;
  /** The logger to give `createTollgate` (request lines completed by the observer). */
  readonly log: Logger;
  /** `routes`, `observe`, `plugins` and `graphiql` for `createTollgate`. */
  readonly tollgate: Pick<TollgateDeps, 'routes' | 'observe' | 'plugins' | 'graphiql'>;
  readonly metrics: PrometheusMetrics;
  /** Wrap the Tollgate handler: every line logged while a request is handled gets its `requestId`. */
  wrap(handler: Handler): Handler;
  /** Starts the `METRICS_PORT` listener when configured; its URL, else undefined. */
  listen(): Promise<string | undefined>;
  /** Where `/metrics` is served, for the start-up line. */
  describe(gatewayUrl: string): string;
  close(): Promise<void>;
}

/**
 * Observability on Node: the request lines and runtime plugin of `createObservability`, plus
 * Prometheus metrics at `/metrics` (on the gateway's port, exempt from rate limiting, behind
 * `METRICS_TOKEN` in production; or on `METRICS_PORT`) and the offline GraphiQL in development.
 *
 * @example
 * const tollgate = createTollgate(config, {
 *   supergraphSdl,
 *   log,
 *   observability: (store) => createNodeObservability(config.observability, config, { log, store }),
 * });
 * await startNodeServer({ handler: tollgate.handler, ... });
 * await tollgate.observability!.listen();
 */
export function createNodeObservability(
  config: ObservabilityConfig,
  gatewayConfig: Config,
  deps: { readonly log: Logger; readonly store: RateLimitStore },
): NodeObservability {
  const { store } = deps;
  const metrics = createPrometheusMetrics({
    store,
    info: {
      environment: gatewayConfig.environment,
      store: store.kind,
      gateway_lifecycle: gatewayConfig.gatewayLifecycle,
      rate_limit: gatewayConfig.rateLimitEnabled ? 'on' : 'off',
    },
    paths: ['/graphql', '/healthcheck', '/readiness', ...(config.metricsEndpoint === 'gateway-port' ? [metricsPath] : [])],
    // Process metrics watch every garbage collection and the event loop: only when scraped.
    processMetrics: config.metricsEndpoint !== 'off',
  });
  // Nothing can read the figures without an endpoint: they are not collected.
  const core = createObservability(config, { ...deps, ...(config.metricsEndpoint === 'off' ? {} : { metrics }) });
  const route = metricsRoute(metrics, config.metricsToken);
  let server: MetricsServer | undefined;

  return {
    config,
    log: core.log,
    tollgate: {
      observe: core.observe,
      plugins: core.plugins,
      ...(config.graphiql
        ? { graphiql: { options: graphiqlOptions(supergraphLocation(gatewayConfig) === undefined), render: renderOfflineGraphiQL } }
        : {}),
      ...(config.metricsEndpoint === 'gateway-port' ? { routes: { [metricsPath]: route } } : {}),
    },
    metrics,
    wrap: core.wrap,
    async listen() {
      if (config.metricsEndpoint !== 'metrics-port' || config.metricsPort === undefined) return undefined;
      server ??= await startMetricsServer({ route, port: config.metricsPort, host: config.metricsHost });
      return `${server.url}${metricsPath}`;
    },
    describe(gatewayUrl) {
      const auth = config.metricsToken ? ' (bearer token)' : '';
      switch (config.metricsEndpoint) {
        case 'gateway-port':
          return `${gatewayUrl}${metricsPath}${auth}`;
        case 'metrics-port':
          return server ? `${server.url}${metricsPath}${auth}` : `port ${config.metricsPort}${auth}`;
        case 'off':
          return 'off (set METRICS_TOKEN or METRICS_PORT)';
      }
    },
    async close() {
      await server?.close();
    },
  };
}
