/**
 * The Cloudflare Worker entry: `export default { fetch }`. The configuration is parsed and the
 * handler built once per isolate (plain data and the isolate-lifecycle runtime may live in
 * module scope); I/O objects such as Redis connections are opened per request by the store.
 * With no SUPERGRAPH the demo graph is served, its subgraphs answered inside the isolate.
 */
import { ConfigError, parseConfig, type Env } from '../config.js';
import { useInIsolateDemoSubgraphs } from '../demo/inIsolate.js';
import inIsolateDemoSupergraph from '../demo/supergraph.in-isolate.graphql';
import { isPrivateSubgraphsProblem, privateSubgraphsProblem } from '../gateway/privateSubgraphs.js';
import { errorBody, jsonResponse } from '../http/errors.js';
import type { Handler } from '../lifecycle/handle.js';
import { createLogger } from '../log.js';
import { createObservability } from '../observability/observability.js';
import { effectiveConfig } from '../observability/startup.js';
import { readRemote, supergraphLocation } from '../supergraph/location.js';
import { refreshDue } from '../supergraph/refreshPolicy.js';
import type { RateLimiterNamespace } from '../ratelimit/durableObject/store.js';
import type { PolicySpec } from '../ratelimit/policies.js';
import type { RateLimitBinding } from '../ratelimit/rateLimitBinding/store.js';
import { createTollgate, type Tollgate } from '../tollgate.js';

/** The rate-limit Durable Object class, exported for the `durable_objects` binding in wrangler.toml. */
export { RateLimiterObject } from './rateLimiterObject.js';

/** The part of Workers' ExecutionContext Tollgate uses. */
export interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

/** The isolate's gateway: built once per `env`, its supergraph refreshed in the background. */
interface Isolate {
  readonly env: Env;
  readonly tollgate: Tollgate;
  /** Whether the supergraph comes from `SUPERGRAPH` (refreshed), rather than the demo's. */
  readonly fetched: boolean;
  readonly ttlMs: number;
  /** When the last refresh was started (milliseconds since the epoch). */
  lastRefreshAt: number;
}

/**
 * How long past a read's own deadline (`SUPERGRAPH_TIMEOUT_MS`) a run of the reloader that shows no
 * progress is taken as lost: its request was cancelled, or its `waitUntil` time ran out, and what it
 * awaits will never settle. The next request then starts another.
 */
const lostMarginMs = 1000;

let cached: Isolate | undefined;

/** A configuration the Worker cannot serve, with a message safe to show the client. */
class UnservableConfigError extends Error {
  override readonly name = 'UnservableConfigError';
}

function isolateFor(env: Env): Isolate {
  if (cached?.env === env) return cached;
  const config = parseConfig(env, 'worker');
  const log = createLogger(config.logLevel);
  const location = supergraphLocation(config);
  if (location?.kind === 'file') {
    throw new ConfigError('SUPERGRAPH', location.value, 'an http(s) URL on Workers (or unset for the demo supergraph)');
  }
  const settings = config.supergraphSource;
  // No scrape endpoint on Workers: each request's log line carries the figures (docs/operating.md).
  const tollgate = createTollgate(config, {
    ...(location === undefined
      ? { supergraphSdl: inIsolateDemoSupergraph, plugins: () => [useInIsolateDemoSubgraphs()] }
      : {
          supergraphSource: {
            read: (etag: string | undefined) => readRemote(location, settings, etag),
            ...(config.allowPrivateSubgraphs ? {} : { check: privateSubgraphsProblem }),
            lostAfterMs: settings.timeoutMs + lostMarginMs,
          },
        }),
    log,
    observability: (store) => createObservability(config.observability, { log, store }),
    ...(config.rateLimitStore === 'durable-object' && { durableObjects: durableObjectNamespace(env, config.durableObjectBinding) }),
    ...(config.rateLimitStore === 'cloudflare' && { rateLimitBindings: rateLimitBindings(env, config.policies) }),
  });
  cached = {
    env,
    tollgate,
    fetched: location !== undefined,
    ttlMs: settings.pollMs,
    lastRefreshAt: 0,
  };
  log.info('started', {
    platform: 'worker',
    store: tollgate.store.kind,
    supergraph: location === undefined ? 'demo (in-isolate subgraphs)' : location.variable,
    config: effectiveConfig(config),
  });
  return cached;
}

/** The Durable Object namespace bound as `name`, or a configuration error naming the variable. */
function durableObjectNamespace(env: Env, name: string): RateLimiterNamespace {
  const binding = env[name] as Partial<RateLimiterNamespace> | undefined;
  if (typeof binding?.idFromName !== 'function' || typeof binding.get !== 'function') {
    throw new ConfigError('RATE_LIMIT_DURABLE_OBJECT', name, 'the name of a Durable Object binding of RateLimiterObject (wrangler.toml)');
  }
  return binding as RateLimiterNamespace;
}

/**
 * The Rate Limiting bindings the policies name, or a configuration error naming the variable that
 * names a missing one (the policy list, or `RATE_LIMIT_BINDING` for the `default` policy).
 */
function rateLimitBindings(env: Env, policies: readonly PolicySpec[]): Record<string, RateLimitBinding> {
  const bindings: Record<string, RateLimitBinding> = {};
  for (const { binding: name } of policies) {
    if (name === undefined || name in bindings) continue;
    const binding = env[name] as Partial<RateLimitBinding> | undefined;
    if (typeof binding?.limit !== 'function') {
      const variable = env['RATE_LIMIT_POLICIES'] === undefined ? 'RATE_LIMIT_BINDING' : 'RATE_LIMIT_POLICIES';
      const error = new ConfigError(variable, name, 'the name of a Rate Limiting binding');
      error.message = `Invalid ${variable}: no Rate Limiting binding named ${name} ([[ratelimits]] in wrangler.toml)`;
      throw error;
    }
    bindings[name] = binding as RateLimitBinding;
  }
  return bindings;
}

/**
 * Starts a refresh of the isolate's supergraph, kept alive past the request's own end through
 * `waitUntil`: when the client leaves, workerd cancels the request's work but not that (for a
 * while), so the read and the swap complete for the requests that come after.
 */
function startRefresh(isolate: Isolate, ctx: ExecutionContext): Promise<void> {
  isolate.lastRefreshAt = Date.now();
  const refresh = isolate.tollgate.supergraph.refresh();
  ctx.waitUntil(refresh);
  return refresh;
}

/**
 * The first load, on the request's path. One request reads; one that arrives meanwhile waits on
 * timers of its own and looks at the state, rather than awaiting the reading request's promise:
 * in workerd a promise settled by another request's I/O never settles if that request is
 * cancelled (its client left), and the waiter would hang. The read ended (loaded, or failed: the
 * state changed) or it was taken as lost (no progress past its deadline; the state unchanged):
 * then this request reads itself, unless another already does.
 */
async function firstLoad(isolate: Isolate, ctx: ExecutionContext): Promise<void> {
  const { supergraph } = isolate.tollgate;
  // A bound on reads lost one after another; each wait below is bounded by the reloader's lostAfterMs.
  for (let round = 0; round < 3; round++) {
    if (!supergraph.reading()) return startRefresh(isolate, ctx);
    const before = supergraph.state();
    while (supergraph.reading()) await new Promise((resolve) => setTimeout(resolve, 20));
    if (supergraph.state() !== before) return;
  }
}

/**
 * The handler, with a graph loaded. The first load is on the request's path (there is nothing to
 * serve before it; a failed one is tried again by the next request); after it, a refresh is due
 * every `SUPERGRAPH_POLL_SECONDS` and runs in the background through `waitUntil`: the request is
 * answered on the cached graph meanwhile (stale-while-revalidate), and a bad refresh keeps it.
 */
async function handlerFor(env: Env, request: Request, ctx: ExecutionContext): Promise<Handler> {
  const isolate = isolateFor(env);
  const { tollgate } = isolate;
  if (!isolate.fetched) return tollgate.handler;
  if (tollgate.supergraph.state().version === undefined) {
    // /readiness answers its own 503 shape with no graph.
    if (new URL(request.url).pathname === '/readiness') return tollgate.handler;
    await firstLoad(isolate, ctx);
    const state = tollgate.supergraph.state();
    if (state.version === undefined) {
      const error = state.lastUpdate?.error ?? 'not loaded';
      if (isPrivateSubgraphsProblem(error)) throw new UnservableConfigError(error);
      throw new Error(`Fetching SUPERGRAPH failed: ${error}`);
    }
    return tollgate.handler;
  }
  const refresh = { lastStartedAt: isolate.lastRefreshAt, running: tollgate.supergraph.reading() };
  if (refreshDue(refresh, Date.now(), isolate.ttlMs)) void startRefresh(isolate, ctx);
  return tollgate.handler;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    let handler: Handler;
    try {
      handler = await handlerFor(env, request, ctx);
    } catch (error) {
      // No start-up phase on Workers: a bad configuration answers every request, and says why in the log.
      const requestId = crypto.randomUUID();
      console.log(JSON.stringify({ level: 'error', msg: 'configuration error', requestId, error: String(error) }));
      const message =
        error instanceof UnservableConfigError
          ? error.message
          : error instanceof ConfigError
            ? `The gateway is not configured correctly: ${error.variable} is invalid (the Worker's log says why).`
            : 'The gateway is not configured correctly.';
      const response = jsonResponse(503, errorBody(message, 'SERVICE_UNAVAILABLE', requestId));
      response.headers.set('Access-Control-Allow-Origin', '*');
      response.headers.set('X-Request-Id', requestId);
      return response;
    }
    return handler(request, { waitUntil: (promise) => ctx.waitUntil(promise) });
  },
};
