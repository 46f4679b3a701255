import type { UnifiedGraphHandler } from '@graphql-hive/gateway-runtime';

/**
 * Which query planner the runtime uses: `js`, the runtime's own (graphql-tools stitching, runs
 * everywhere), or `rust`, Hive Router's planner (`@graphql-hive/router-runtime`, a native addon:
 * Node only).
 */
export type QueryPlanner = 'js' | 'rust';

/** The package name is a variable so Worker bundlers leave it out: a native addon cannot load there. */
const routerRuntimePackage = '@graphql-hive/router-runtime';

let routerRuntime: Promise<UnifiedGraphHandler> | undefined;

/** Loads Hive Router's handler once per process; a failed load is retried by the next caller. */
function loadRouterRuntime(): Promise<UnifiedGraphHandler> {
  routerRuntime ??= (import(routerRuntimePackage) as Promise<{ unifiedGraphHandler: UnifiedGraphHandler }>).then(
    (module) => module.unifiedGraphHandler,
    (error: unknown) => {
      routerRuntime = undefined;
      throw new Error(`QUERY_PLANNER=rust needs ${routerRuntimePackage} (a native addon, Node only): ${String(error)}`);
    },
  );
  return routerRuntime;
}

/**
 * The Rust planner as the runtime's `unifiedGraphHandler`. Synchronous to pass (runtimes are
 * created synchronously); the addon is imported when the runtime first loads its schema.
 */
const rustUnifiedGraphHandler: UnifiedGraphHandler = async (opts) => (await loadRouterRuntime())(opts);

/**
 * The `unifiedGraphHandler` option for a planner (Tollgate's runtime and the benchmarks' bare one):
 * undefined, for `js` or no planner, keeps the runtime's JavaScript one.
 *
 * @example createGatewayRuntime({ supergraph, unifiedGraphHandler: unifiedGraphHandlerFor('rust') })
 */
export function unifiedGraphHandlerFor(planner: QueryPlanner | undefined): UnifiedGraphHandler | undefined {
  return planner === 'rust' ? rustUnifiedGraphHandler : undefined;
}

/**
 * Whether the Rust planner loads on this machine (the addon ships for linux/darwin, x64/arm64).
 * For start-up checks: a configured `rust` planner that cannot load should stop start-up.
 */
export async function rustPlannerAvailable(): Promise<boolean> {
  try {
    await loadRouterRuntime();
    return true;
  } catch {
    return false;
  }
}
