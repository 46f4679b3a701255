import type { Config } from './config.js';
import { createGatewayProvider, type GatewayProvider } from './gateway/lifecycle.js';
import { createRuntime, type RuntimeOptions } from './gateway/runtime.js';
import { createHandler, type Handler, type HandlerDeps } from './lifecycle/handle.js';
import type { Logger } from './log.js';
import type { RateLimitStore } from './ratelimit/store.js';

export interface Tollgate {
  readonly handler: Handler;
  readonly gateway: GatewayProvider;
  readonly store: RateLimitStore;
  /** Disposes the shared runtime and closes the store. */
  close(): Promise<void>;
}

/** Wires the configured gateway lifecycle, store and handler together; platform-independent. */
export interface TollgateDeps {
  readonly supergraphSdl: string;
  readonly store: RateLimitStore;
  readonly log: Logger;
  /** Extra exempt endpoints, an observer of every request, runtime plugins (see HandlerDeps). */
  readonly routes?: HandlerDeps['routes'];
  readonly observe?: HandlerDeps['observe'];
  readonly plugins?: RuntimeOptions['plugins'];
  /** GraphiQL's options and page renderer, in development (see RuntimeOptions). */
  readonly graphiql?: RuntimeOptions['graphiql'];
}

export function createTollgate(config: Config, deps: TollgateDeps): Tollgate {
  const { supergraphSdl, store, log, routes, observe, plugins, graphiql } = deps;
  const development = config.environment === 'development';
  const gateway = createGatewayProvider(config.gatewayLifecycle, () =>
    createRuntime({
      supergraphSdl,
      development,
      log,
      plugins,
      graphiql,
      security: config.security,
      queryPlanner: config.queryPlanner,
      upstreamDeadline: config.platform === 'node' ? 'shared' : 'per-call',
    }),
  );
  const handler = createHandler({ config, gateway, store, log, routes, observe });
  return {
    handler,
    gateway,
    store,
    async close() {
      await gateway.dispose();
      await store.close();
    },
  };
}
