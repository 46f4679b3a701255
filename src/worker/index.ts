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
  /** The deadline of one read of the source (`SUPERGRAPH_TIMEOUT_MS`). */
  readonly readTimeoutMs: number;
  refresh: { lastStartedAt: number; running: boolean };
}

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
    readTimeoutMs: settings.timeoutMs,
    refresh: { lastStartedAt: 0, running: false },
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

/** Runs a refresh of the isolate's supergraph, marking it running (one at a time). */
function startRefresh(isolate: Isolate): Promise<void> {
  isolate.refresh = { lastStartedAt: Date.now(), running: true };
  return isolate.tollgate.supergraph.refresh().finally(() => {
    isolate.refresh = { ...isolate.refresh, running: false };
  });
}

/**
 * The first load, on the request's path. One request reads; one that arrives meanwhile waits on
 * timers of its own and looks at the state, rather than awaiting the reading request's promise:
 * in workerd a promise settled by another request's I/O never settles if that request is
 * cancelled (its client left), and the waiter would hang. Past the read's deadline (plus a margin)
 * with nothing loaded, the waiter stops waiting and is answered 503.
 */
async function firstLoad(isolate: Isolate): Promise<void> {
  if (!isolate.refresh.running) return startRefresh(isolate);
  const giveUpAt = Date.now() + isolate.readTimeoutMs + 1000;
  while (isolate.refresh.running && isolate.tollgate.supergraph.state().version === undefined) {
    if (Date.now() >= giveUpAt) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
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
    await firstLoad(isolate);
    const state = tollgate.supergraph.state();
    if (state.version === undefined) {
      const error = state.lastUpdate?.error ?? 'not loaded';
      if (isPrivateSubgraphsProblem(error)) throw new UnservableConfigError(error);
      throw new Error(`Fetching SUPERGRAPH failed: ${error}`);
    }
    return tollgate.handler;
  }
  if (refreshDue(isolate.refresh, Date.now(), isolate.ttlMs)) ctx.waitUntil(startRefresh(isolate));
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
