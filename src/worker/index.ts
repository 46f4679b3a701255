/**
 * The Cloudflare Worker entry: `export default { fetch }`. The configuration is parsed and the
 * handler built once per isolate (plain data and the isolate-lifecycle runtime may live in
 * module scope); I/O objects such as Redis connections are opened per request by the store.
 * With no SUPERGRAPH the demo graph is served, its subgraphs answered inside the isolate.
 */
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { ConfigError, isUrl, parseConfig, type Config, type Env } from '../config.js';
import { useInIsolateDemoSubgraphs } from '../demo/inIsolate.js';
import inIsolateDemoSupergraph from '../demo/supergraph.in-isolate.graphql';
import { privateSubgraphs } from '../gateway/privateSubgraphs.js';
import { errorBody, jsonResponse } from '../http/errors.js';
import type { Handler } from '../lifecycle/handle.js';
import { createLogger } from '../log.js';
import { createObservability } from '../observability/observability.js';
import { effectiveConfig } from '../observability/startup.js';
import { createTollgate } from '../tollgate.js';

/** The part of Workers' ExecutionContext Tollgate uses. */
export interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

let cached: { env: Env; handler: Handler } | undefined;
/** The supergraph fetched from a `SUPERGRAPH` URL, kept as text (never a shared I/O promise). */
let fetchedSupergraph: { url: string; sdl: string } | undefined;

/** A configuration the Worker cannot serve, with a message safe to show the client. */
class UnservableConfigError extends Error {
  override readonly name = 'UnservableConfigError';
}

interface Graph {
  readonly sdl: string;
  /** Runtime plugins the graph needs (the in-isolate demo subgraphs). */
  readonly plugins: readonly GatewayPlugin[];
}

async function graphFor(config: Config): Promise<Graph> {
  const source = config.supergraph;
  if (source === undefined) return { sdl: inIsolateDemoSupergraph, plugins: [useInIsolateDemoSubgraphs()] };
  if (!isUrl(source)) {
    throw new ConfigError('SUPERGRAPH', source, 'an http(s) URL on Workers (or unset for the demo supergraph)');
  }
  let sdl: string;
  if (fetchedSupergraph?.url === source) {
    sdl = fetchedSupergraph.sdl;
  } else {
    const response = await fetch(source);
    if (!response.ok) throw new Error(`Fetching SUPERGRAPH failed: HTTP ${response.status}`);
    sdl = await response.text();
    fetchedSupergraph = { url: source, sdl };
  }
  const unreachable = config.allowPrivateSubgraphs ? [] : privateSubgraphs(sdl);
  if (unreachable.length > 0) {
    const list = unreachable.map(({ name, url }) => `${name} (${new URL(url).host})`).join(', ');
    throw new UnservableConfigError(
      `The supergraph names subgraphs on loopback or private addresses, which a deployed Worker cannot reach: ${list}. ` +
        'Give them public URLs, or set ALLOW_PRIVATE_SUBGRAPHS=true for local development.',
    );
  }
  return { sdl, plugins: [] };
}

async function handlerFor(env: Env): Promise<Handler> {
  if (cached?.env === env) return cached.handler;
  const config = parseConfig(env, 'worker');
  const log = createLogger(config.logLevel);
  const graph = await graphFor(config);
  // Another request may have built it while this one fetched the supergraph.
  if (cached?.env === env) return cached.handler;
  // No scrape endpoint on Workers: each request's log line carries the figures (docs/operating.md).
  const tollgate = createTollgate(config, {
    supergraphSdl: graph.sdl,
    log,
    plugins: () => [...graph.plugins],
    observability: (store) => createObservability(config.observability, { log, store }),
  });
  const { handler, store } = tollgate;
  cached = { env, handler };
  log.info('started', {
    platform: 'worker',
    store: store.kind,
    supergraph: config.supergraph === undefined ? 'demo (in-isolate subgraphs)' : 'SUPERGRAPH',
    config: effectiveConfig(config),
  });
  return handler;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    let handler: Handler;
    try {
      handler = await handlerFor(env);
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
