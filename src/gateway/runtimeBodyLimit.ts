import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';

/**
 * Switches off the request body limit that GraphQL Yoga (inside the runtime) adds on its own:
 * since Yoga 5.24 every request body is piped through a web TransformStream that counts bytes up
 * to 25 MB, and the runtime does not pass Yoga's `maxRequestBodySize` option through. Tollgate
 * bounds every body before the runtime sees it (`MAX_BODY_BYTES`, src/security/body.ts), so that
 * second count only costs: a stream pipeline, a wrapped body and an aborted controller per
 * request, about 6 % of the gateway's CPU per request on the issue-6 benchmark.
 *
 * Yoga gives plugins `onYogaInit` before it collects their hooks, and its limiter comes after
 * every plugin the runtime is given, so removing the limiter's `onRequestParse` here keeps it from
 * being registered. It is recognised by its source (`limitRequestBodySize(`); when it is not
 * found (a Yoga version that does it differently), nothing changes and `onMissing` is told once.
 *
 * @example plugins: () => [skipRuntimeBodyLimit(() => log.warn('…')), …]
 */
export function skipRuntimeBodyLimit(onMissing: () => void): GatewayPlugin {
  return {
    onYogaInit({ yoga }) {
      const plugins = (yoga as unknown as { readonly plugins?: readonly unknown[] }).plugins ?? [];
      const limiter = plugins.find(isYogaBodyLimiter);
      if (limiter) delete limiter.onRequestParse;
      else missing(onMissing);
    },
  };
}

let toldMissing = false;
function missing(onMissing: () => void): void {
  // The request lifecycle builds a runtime per request: say it once per process or isolate.
  if (toldMissing) return;
  toldMissing = true;
  onMissing();
}

function isYogaBodyLimiter(plugin: unknown): plugin is { onRequestParse?: unknown } {
  if (typeof plugin !== 'object' || plugin === null) return false;
  const hook = (plugin as { onRequestParse?: unknown }).onRequestParse;
  return typeof hook === 'function' && Function.prototype.toString.call(hook).includes('limitRequestBodySize(');
}
