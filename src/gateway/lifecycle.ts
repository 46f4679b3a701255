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

/** What a runtime is created with: a fixed text, or a function the runtime calls when it (re)loads. */
export type SupergraphInput = string | (() => string);

export interface GatewayProvider {
  readonly lifecycle: GatewayLifecycle;
  /** A runtime for one request. Creating one is synchronous; it loads its schema lazily. */
  acquire(): Lease;
  /**
   * Makes `sdl` the supergraph of new requests. `isolate`: inside the one runtime, through its
   * graceful reload (operations in flight finish on the version they started with); `request`:
   * the next runtimes are created with it, once a probe runtime has loaded it. Throws when the
   * runtime refuses it; the previous supergraph is then kept.
   */
  swap(sdl: string): Promise<void>;
  /** Disposes what the provider still holds (the shared runtime). */
  dispose(): Promise<void>;
}

/**
 * `request`: a runtime per request, disposed after it through `waitUntil` (the seed design).
 * `isolate`: one runtime per isolate or process, reused by every request, disposed at shutdown.
 * `initial`: a supergraph served from the start without a `swap` (loaded lazily, unchecked).
 */
export function createGatewayProvider(
  lifecycle: GatewayLifecycle,
  create: (supergraph: SupergraphInput) => GatewayRuntime,
  initial?: string,
): GatewayProvider {
  let current = initial;
  const served = (): string => {
    if (current === undefined) throw new Error('no supergraph loaded yet');
    return current;
  };
  if (lifecycle === 'request') {
    return {
      lifecycle,
      acquire() {
        const runtime = create(served());
        return { runtime, release: async () => void (await runtime.dispose()) };
      },
      async swap(sdl) {
        const probe = create(sdl);
        try {
          await probe.getSchema();
        } finally {
          await probe.dispose();
        }
        current = sdl;
      },
      async dispose() {},
    };
  }
  let shared: GatewayRuntime | undefined;
  // The text the shared runtime gets when it (re)loads: the one on offer during a swap.
  let offered: string | undefined;
  const supergraph = (): string => offered ?? served();
  let swapping: Promise<void> = Promise.resolve();
  async function swapShared(sdl: string): Promise<void> {
    if (current === undefined || shared === undefined) {
      // Nothing served yet: the runtime loads the offered text first, or fails to.
      offered = sdl;
      const runtime = (shared ??= create(supergraph));
      try {
        await runtime.getSchema();
      } catch (error) {
        shared = undefined;
        await runtime.dispose();
        throw error;
      } finally {
        offered = undefined;
      }
      current = sdl;
      return;
    }
    const runtime = shared;
    const before = await runtime.getSchema();
    offered = sdl;
    let after: unknown;
    try {
      // The runtime fetches the offered text; on failure it logs why and keeps its schema.
      await runtime.invalidateUnifiedGraph();
      after = await runtime.getSchema();
    } finally {
      offered = undefined;
    }
    if (after === before) throw new Error("it did not load (the runtime's 'Failed to load Supergraph' log line says why)");
    current = sdl;
  }
  return {
    lifecycle,
    acquire() {
      shared ??= create(supergraph);
      return { runtime: shared, release: undefined };
    },
    swap(sdl) {
      // One swap at a time: `offered` belongs to one.
      const next = swapping.then(() => swapShared(sdl));
      swapping = next.catch(() => {});
      return next;
    },
    async dispose() {
      const runtime = shared;
      shared = undefined;
      await runtime?.dispose();
    },
  };
}
