import type { GatewayRuntime } from '@graphql-hive/gateway-runtime';

/** `GATEWAY_LIFECYCLE`: a runtime per isolate or process, or one per request. */
export type GatewayLifecycle = 'request' | 'isolate';

/**
 * The default gateway lifecycle: `isolate`, which the lifecycle tests show correct under
 * concurrency in workerd and Node and the lifecycle benchmark shows several times faster
 * (docs/architecture.md, "Gateway lifecycle").
 */
export const defaultGatewayLifecycle: GatewayLifecycle = 'isolate';

/** A runtime lent to one request; `release` is what must happen after the response. */
export interface Lease {
  readonly runtime: GatewayRuntime;
  /** Undefined when nothing is to be released (the isolate lifecycle). */
  readonly release: (() => Promise<void>) | undefined;
}

export interface GatewayProvider {
  readonly lifecycle: GatewayLifecycle;
  /** A runtime for one request. Creating one is synchronous; it loads its schema lazily. */
  acquire(): Lease;
  /** Disposes what the provider still holds (the shared runtime). */
  dispose(): Promise<void>;
}

/**
 * `request`: a runtime per request, disposed after it through `waitUntil` (the seed design).
 * `isolate`: one runtime per isolate or process, reused by every request, disposed at shutdown.
 */
export function createGatewayProvider(lifecycle: GatewayLifecycle, create: () => GatewayRuntime): GatewayProvider {
  if (lifecycle === 'request') {
    return {
      lifecycle,
      acquire() {
        const runtime = create();
        return { runtime, release: async () => void (await runtime.dispose()) };
      },
      async dispose() {},
    };
  }
  let shared: GatewayRuntime | undefined;
  return {
    lifecycle,
    acquire() {
      shared ??= create();
      return { runtime: shared, release: undefined };
    },
    async dispose() {
      const runtime = shared;
      shared = undefined;
      await runtime?.dispose();
    },
  };
}
