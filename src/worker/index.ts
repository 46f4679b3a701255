/**
 * The Cloudflare Worker entry: `export default { fetch }`. The configuration is parsed and the
 * handler built once per isolate (plain data and the isolate-lifecycle runtime may live in
 * module scope); I/O objects such as Redis connections are opened per request by the store.
 */
import bundledSupergraph from '../../supergraph.graphql';
import { ConfigError, isUrl, parseConfig, type Env } from '../config.js';
import { errorBody, jsonResponse } from '../http/errors.js';
import type { Handler } from '../lifecycle/handle.js';
import { createLogger } from '../log.js';
import { parseObservabilityConfig } from '../observability/config.js';
import { createObservability } from '../observability/observability.js';
import { effectiveConfig } from '../observability/startup.js';
import { createStore, storeConfig } from '../ratelimit/createStore.js';
import { createTollgate } from '../tollgate.js';

/** The part of Workers' ExecutionContext Tollgate uses. */
export interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

let cached: { env: Env; handler: Handler } | undefined;
/** The supergraph fetched from a `SUPERGRAPH` URL, kept as text (never a shared I/O promise). */
let fetchedSupergraph: { url: string; sdl: string } | undefined;

async function supergraphFor(source: string | undefined): Promise<string> {
  if (source === undefined) return bundledSupergraph;
  if (!isUrl(source)) {
    throw new ConfigError('SUPERGRAPH', source, 'an http(s) URL on Workers (or unset for the bundled supergraph)');
  }
  if (fetchedSupergraph?.url === source) return fetchedSupergraph.sdl;
  const response = await fetch(source);
  if (!response.ok) throw new Error(`Fetching SUPERGRAPH failed: HTTP ${response.status}`);
  const sdl = await response.text();
  fetchedSupergraph = { url: source, sdl };
  return sdl;
}

async function handlerFor(env: Env): Promise<Handler> {
  if (cached?.env === env) return cached.handler;
  const config = parseConfig(env, 'worker');
  const observability = parseObservabilityConfig(env, config, 'worker');
  const log = createLogger(config.logLevel);
  const supergraphSdl = await supergraphFor(config.supergraph);
  // Another request may have built it while this one fetched the supergraph.
  if (cached?.env === env) return cached.handler;
  const store = createStore(storeConfig(config, true), { log });
  // No scrape endpoint on Workers: each request's log line carries the figures (README, "Operating Tollgate").
  const obs = createObservability(observability, { log, store });
  const tollgate = createTollgate(config, { supergraphSdl, store, log: obs.log, observe: obs.observe, plugins: obs.plugins });
  const handler = obs.wrap(tollgate.handler);
  cached = { env, handler };
  log.info('started', { platform: 'worker', store: store.kind, config: effectiveConfig(config, observability) });
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
      const response = jsonResponse(503, errorBody('The gateway is not configured correctly.', 'SERVICE_UNAVAILABLE', requestId));
      response.headers.set('Access-Control-Allow-Origin', '*');
      response.headers.set('X-Request-Id', requestId);
      return response;
    }
    return handler(request, { waitUntil: (promise) => ctx.waitUntil(promise) });
  },
};
