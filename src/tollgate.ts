import type { Config } from './config.js';
import { useCostReport, useParsedParams } from './gateway/costReport.js';
import { createGatewayProvider, type GatewayProvider } from './gateway/lifecycle.js';
import { createRuntime, type RuntimeOptions } from './gateway/runtime.js';
import { createHandler, type Handler, type HandlerDeps } from './lifecycle/handle.js';
import type { Logger } from './log.js';
import { currentEstimator } from './cost/current.js';
import { createStore, type StoreConfig, type StoreDeps } from './ratelimit/createStore.js';
import type { RateLimitStore } from './ratelimit/store.js';
import { supergraphProblem } from './supergraph/check.js';
import type { SourceRead } from './supergraph/fetchUrl.js';
import { createSupergraphReloader, type SupergraphReloader } from './supergraph/reloader.js';

export interface Tollgate<O extends TollgateObservability = TollgateObservability> {
  /** The lifecycle handler, wrapped by the observability's `wrap`. */
  readonly handler: Handler;
  readonly gateway: GatewayProvider;
  readonly store: RateLimitStore;
  /** The served supergraph: `refresh()` reads the source and swaps a new good graph in. */
  readonly supergraph: SupergraphReloader;
  /** What the platform's observability factory built (Node: its `/metrics` listener, its metrics). */
  readonly observability: O | undefined;
  /** Disposes the shared runtime and closes the store. */
  close(): Promise<void>;
}

/** What an observability gives the lifecycle: the request lines' logger, an observer, routes, plugins. */
export interface TollgateObservability {
  /** Request lines are completed by the observer through this logger. */
  readonly log: Logger;
  readonly tollgate: Pick<TollgateDeps, 'routes' | 'observe' | 'plugins' | 'graphiql'>;
  /** Wraps the handler (e.g. an async context per request). */
  wrap(handler: Handler): Handler;
}

/**
 * Builds the gateway from a configuration: the store the configuration names, the platform's
 * observability over it, the runtime in its lifecycle, and the request lifecycle around them.
 * Platform-independent: the Node and Worker entries pass only what differs between them.
 */
export interface TollgateDeps<O extends TollgateObservability = TollgateObservability> {
  /** A supergraph served from the start (the demo's, or a fixed one), unless `supergraphSource` is given. */
  readonly supergraphSdl?: string;
  /**
   * Where new versions come from (src/supergraph/sources.ts): nothing is served until the first
   * `supergraph.refresh()` has loaded one. `check` adds the platform's rules to the SDL check.
   */
  readonly supergraphSource?: {
    readonly read: (etag: string | undefined) => Promise<SourceRead>;
    readonly check?: (sdl: string) => string | undefined;
    /** A run without progress for this long is taken as lost (see ReloaderDeps.lostAfterMs). */
    readonly lostAfterMs?: number;
  };
  readonly log: Logger;
  /** The rate-limit store; by default the one the configuration names (`createStore`). */
  readonly store?: RateLimitStore;
  /** Workers: the Durable Object namespace of the `durable-object` store (`RATE_LIMIT_DURABLE_OBJECT`). */
  readonly durableObjects?: StoreDeps['durableObjects'];
  /** Workers: the Rate Limiting bindings of the `cloudflare` store, by name (the policies' `binding`). */
  readonly rateLimitBindings?: StoreDeps['rateLimitBindings'];
  /** The platform's observability, built over the store (Node: Prometheus; Workers: request lines). */
  readonly observability?: (store: RateLimitStore) => O;
  /** Extra exempt endpoints and an observer of every request (see HandlerDeps), besides the observability's. */
  readonly routes?: HandlerDeps['routes'];
  readonly observe?: HandlerDeps['observe'];
  /** Runtime plugins (the Worker's in-isolate demo subgraphs), before the observability's. */
  readonly plugins?: RuntimeOptions['plugins'];
  /** GraphiQL's options and page renderer, in development (see RuntimeOptions). */
  readonly graphiql?: RuntimeOptions['graphiql'];
}

export function createTollgate<O extends TollgateObservability>(config: Config, deps: TollgateDeps<O>): Tollgate<O> {
  const { supergraphSdl } = deps;
  // Workers: a TCP connection per request (workerd forbids sharing sockets between requests).
  const store =
    deps.store ??
    createStore(storeConfig(config, config.platform === 'worker'), {
      log: deps.log,
      ...(deps.durableObjects && { durableObjects: deps.durableObjects }),
      ...(deps.rateLimitBindings && { rateLimitBindings: deps.rateLimitBindings }),
    });
  const observability = deps.observability?.(store);
  const seen = observability?.tollgate ?? {};
  const log = observability?.log ?? deps.log;
  const routes = deps.routes || seen.routes ? { ...seen.routes, ...deps.routes } : undefined;
  const observe = deps.observe ?? seen.observe;
  const graphiql = deps.graphiql ?? seen.graphiql;
  const development = config.environment === 'development';
  // Operations are priced only when something spends or caps their cost.
  const costs = pricesOperations(config)
    ? currentEstimator(config.cost.defaultListSize, (error) =>
        log.error('the supergraph’s cost directives cannot be read; operations are not priced', { error }),
      )
    : undefined;
  if (costs && !deps.supergraphSource && supergraphSdl !== undefined) costs.swap(supergraphSdl);
  // When operations are priced the runtime executes the parameters priced, and tells the
  // lifecycle of each operation it executes.
  const plugins = joinPlugins(joinPlugins(deps.plugins, seen.plugins), costs ? () => [useParsedParams(), useCostReport()] : undefined);
  const gateway = createGatewayProvider(
    config.gatewayLifecycle,
    (supergraph) =>
      createRuntime({
        supergraph,
        development,
        log,
        plugins,
        graphiql,
        security: config.security,
        queryPlanner: config.queryPlanner,
        upstreamDeadline: config.platform === 'node' ? 'process' : 'request',
      }),
    deps.supergraphSource ? undefined : supergraphSdl,
  );
  const source = deps.supergraphSource;
  const platformCheck = source?.check;
  const supergraph = createSupergraphReloader({
    // Without a source the graph given is the only one: every read finds it unchanged.
    read: source ? source.read : async () => ({ kind: 'unchanged' }),
    check: (sdl) => supergraphProblem(sdl) ?? platformCheck?.(sdl),
    swap: async (sdl) => {
      await gateway.swap(sdl);
      costs?.swap(sdl);
    },
    log: deps.log,
    now: Date.now,
    ...(source || supergraphSdl === undefined ? {} : { initial: supergraphSdl }),
    ...(source?.lostAfterMs === undefined ? {} : { lostAfterMs: source.lostAfterMs }),
  });
  const handler = createHandler({
    config,
    gateway,
    store,
    log,
    routes,
    observe,
    supergraph: () => supergraph.state(),
    ...(costs && { costs }),
  });
  return {
    handler: observability ? observability.wrap(handler) : handler,
    gateway,
    store,
    supergraph,
    observability,
    async close() {
      await gateway.dispose();
      await store.close();
    },
  };
}

function joinPlugins(first: RuntimeOptions['plugins'], second: RuntimeOptions['plugins']): RuntimeOptions['plugins'] {
  if (first === undefined) return second;
  if (second === undefined) return first;
  return (context) => [...first(context), ...second(context)];
}

/** Whether operations are priced: `MAX_COST` is set, or a policy spends cost. */
export function pricesOperations(config: Config): boolean {
  return config.cost.maxCost !== undefined || (config.rateLimitEnabled && config.policies.some((p) => p.unit === 'cost'));
}

/** The store settings of a parsed configuration (`connectionPerRequest` on Workers). */
export function storeConfig(config: Config, connectionPerRequest = false): StoreConfig {
  return {
    redisUrl: config.redisUrl,
    redisClusterNodes: config.redisClusterNodes,
    upstashUrl: config.upstashUrl,
    upstashToken: config.upstashToken,
    kind: config.rateLimitStore,
    keyPrefix: config.redisKeyPrefix,
    timeoutMs: config.rateLimitTimeoutMs,
    connectionPerRequest,
  };
}
