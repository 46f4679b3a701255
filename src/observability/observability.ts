import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import type { Handler, RequestEvent } from '../lifecycle/handle.js';
import type { LogFields, Logger } from '../log.js';
import type { ResilientStoreStats } from '../ratelimit/resilientStore.js';
import type { RateLimitStore } from '../ratelimit/store.js';
import type { TollgateDeps } from '../tollgate.js';
import { identityName, identityNamespace } from '../identity/identity.js';
import { clientLogKey } from './clientKey.js';
import type { ObservabilityConfig } from '../config.js';
import { inRequestContext, withCurrentRequestId } from './requestContext.js';
import { createRequestTracker, type RequestDetails, type SubgraphCall } from './requestTracker.js';

/** Where request figures go besides the log: Prometheus on Node (`prometheus.ts`). */
export interface MetricsSink {
  request(event: RequestEvent, details: RequestDetails | undefined): void;
  subgraphCall(call: SubgraphCall): void;
}

/** What `createTollgate` takes from observability, and the logger to give it. */
export interface Observability {
  readonly config: ObservabilityConfig;
  /** Give this logger to `createTollgate`: its `request` lines carry the fields below. */
  readonly log: Logger;
  readonly observe: NonNullable<TollgateDeps['observe']>;
  readonly plugins: NonNullable<TollgateDeps['plugins']>;
  /** The same observer and plugins, as `createTollgate` takes them. */
  readonly tollgate: Pick<TollgateDeps, 'observe' | 'plugins'>;
  /** Wrap the Tollgate handler: every line logged while a request is handled gets its `requestId`. */
  wrap(handler: Handler): Handler;
}

export interface ObservabilityDeps {
  readonly log: Logger;
  readonly store: RateLimitStore;
  /** Prometheus on Node; none on Workers, where the request lines are the metrics. */
  readonly metrics?: MetricsSink;
  /** More runtime plugins (Node's offline GraphiQL). */
  readonly plugins?: readonly GatewayPlugin[];
}

/** A store with counters and a circuit breaker (`ResilientStore`). */
export function storeStats(store: RateLimitStore): ResilientStoreStats | undefined {
  const stats = (store as { stats?: () => ResilientStoreStats }).stats;
  return typeof stats === 'function' ? stats.call(store) : undefined;
}

/**
 * The platform-independent part of observability: one observer per request that returns the fields
 * the lifecycle adds to the request's log line and feeds the metrics, and the runtime plugin
 * that tells it the operation and the subgraph calls. The request line gains:
 *
 * - `operation`: the executed operation's name (`(anonymous)`), absent when nothing executed;
 * - `client`: the client's address key as a salted hash (as it is with `LOG_CLIENT_IP=true`);
 * - `identity`, `identitySource` (`jwt`, `api-key`) and `tier`, when a token or key decided who is
 *   asking: the identity namespaced and hashed like the address (`jwt:3fa2…`). Absent, the address
 *   decided (tier `default`), and the line is as it was before identities;
 * - `subgraphErrors`: failed calls per subgraph, when there were any;
 * - `breaker`: the store's circuit breaker (`closed`, `open`, `half-open`), with a Redis store.
 *
 * On Workers these lines are the metrics: Workers Logs and Logpush count and sum them.
 *
 * @example
 * const o = createObservability(observabilityConfig, { log, store });
 * const { handler } = createTollgate(config, { supergraphSdl, log, observability: (store) => createObservability(config.observability, { log, store }) });
 * export default { fetch: (request, env, ctx) => handler(request, ctx) };
 */
export function createObservability(config: ObservabilityConfig, deps: ObservabilityDeps): Observability {
  const { log, store, metrics } = deps;
  const requestScopedLog = withCurrentRequestId(log);
  const logKey = clientLogKey({ logClientIp: config.logClientIp, salt: config.logSalt });
  const tracker = createRequestTracker(metrics ? { onSubgraphCall: (call) => metrics.subgraphCall(call) } : {});
  // What the tracker records feeds the metrics and the request line (info); without either, the
  // runtime runs without it.
  const tracking = metrics !== undefined || log.enabled('info');
  const plugins = [...(tracking ? [tracker.plugin] : []), ...(deps.plugins ?? [])];

  function observe(event: RequestEvent): LogFields | void {
    const details = tracker.take(event.runtimeRequest);
    metrics?.request(event, details);
    // The fields are for the request line, written at info: none to build (no client hash) above it.
    if (!log.enabled('info')) return;
    const fields: LogFields = {};
    if (details?.operation !== undefined) fields['operation'] = details.operation;
    const address = event.address ?? event.clientKey;
    if (address !== undefined) fields['client'] = logKey(address);
    const identity = event.identity;
    if (identity !== undefined && identity.source !== 'ip') {
      // Namespaced and hashed like the address: `jwt:3fa2…`. Without these fields the address decided (tier `default`).
      const name = identityName(identity);
      const logged = logKey(name); // the name itself with LOG_CLIENT_IP=true
      fields['identity'] = logged === name ? name : `${identityNamespace[identity.source]}:${logged}`;
      fields['identitySource'] = identity.source;
      fields['tier'] = identity.tier;
    }
    if (details && Object.keys(details.subgraphErrors).length > 0) fields['subgraphErrors'] = details.subgraphErrors;
    const breaker = storeStats(store)?.breakerState;
    if (breaker !== undefined) fields['breaker'] = breaker;
    return fields;
  }

  // AsyncLocalStorage switches on Node's promise hooks for every promise in the process (measured
  // in CPU profiles of the deep benchmark query: about 0.4 of 14 CPU ms per query). The runtime
  // already logs through a per-request child logger carrying the request id, so the async context
  // that fills in the id of its other lines is kept for debug logging.
  const wrap = log.enabled('debug') ? inRequestContext : (handler: Handler): Handler => handler;
  const runtimePlugins = () => plugins;
  return { config, log: requestScopedLog, observe, plugins: runtimePlugins, tollgate: { observe, plugins: runtimePlugins }, wrap };
}
