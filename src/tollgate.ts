import type { Config } from './config.js';
import { createGatewayProvider, type GatewayProvider } from './gateway/lifecycle.js';
import { createRuntime } from './gateway/runtime.js';
import { createHandler, type Handler } from './lifecycle/handle.js';
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
export function createTollgate(
  config: Config,
  deps: { readonly supergraphSdl: string; readonly store: RateLimitStore; readonly log: Logger },
): Tollgate {
  const { supergraphSdl, store, log } = deps;
  const development = config.environment === 'development';
  const gateway = createGatewayProvider(config.gatewayLifecycle, () =>
    createRuntime({ supergraphSdl, development, log }),
  );
  const handler = createHandler({ config, gateway, store, log });
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
