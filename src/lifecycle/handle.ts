import type { Config } from '../config.js';
import type { GatewayProvider } from '../gateway/lifecycle.js';
import { createCors } from '../http/cors.js';
import { errorBody, errorResponse, jsonResponse } from '../http/errors.js';
import { rateLimitPolicyHeader, setRateLimitHeaders } from '../http/rateLimitHeaders.js';
import { requestIdOf, withRequestId } from '../http/requestId.js';
import { processingTime, serverTiming } from '../http/timing.js';
import { clientKey } from '../identity/clientKey.js';
import type { LogFields, Logger } from '../log.js';
import { toSeconds } from '../ratelimit/policy.js';
import type { DecisionSource, RateLimitStore, StoreDecision } from '../ratelimit/store.js';
import { boundBody } from '../security/body.js';
import { inErrorShape } from '../security/errorShape.js';

/** What the platform lends one request: Workers' ExecutionContext, or the Node adapter's. */
export interface LifecycleContext {
  /** Keeps work going after the response (disposal, closing connections). */
  waitUntil(promise: Promise<unknown>): void;
  /** The connection's remote address (Node). Workers leave it undefined. */
  readonly clientAddress?: string;
  /**
   * Node's incoming message, handed on to the runtime as `req` in its server context, as its own
   * Node adapter does: the runtime then reads the request's headers from it instead of wrapping
   * the Request's headers in a proxy for every request. Workers leave it undefined.
   */
  readonly req?: { readonly headers: Readonly<Record<string, string | string[] | undefined>> };
}

export interface HandlerDeps {
  readonly config: Config;
  readonly gateway: GatewayProvider;
  readonly store: RateLimitStore;
  readonly log: Logger;
  /** A monotonic clock in milliseconds. */
  readonly now?: () => number;
  /**
   * Extra endpoints answered without rate limiting or the gateway (e.g. `/metrics`); they get
   * the usual headers. Keyed by exact path.
   */
  readonly routes?: Readonly<Record<string, (request: Request) => Response | Promise<Response>>>;
  /**
   * Called once per handled request (not preflights) with what happened, just before the
   * request's log line is written; fields it returns are added to that line.
   */
  readonly observe?: (event: RequestEvent) => LogFields | void;
}

/** What one request came to: the request log line's fields, for metrics and other observers. */
export interface RequestEvent {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly clientKey: string | undefined;
  readonly rateLimit: RateLimitOutcome;
  readonly rateLimitSource: DecisionSource | undefined;
  readonly rateLimitMs: number;
  readonly gatewayMs: number;
  readonly totalMs: number;
}

export type Handler = (request: Request, ctx: LifecycleContext) => Promise<Response>;

/** Paths answered without rate limiting (the runtime's own names). */
const exemptPaths = new Set(['/healthcheck', '/readiness']);

/** Headers a browser page may read from every response. */
export const exposedHeaders = [
  'X-Processing-Time',
  'Server-Timing',
  'X-Request-Id',
  'RateLimit-Policy',
  'RateLimit',
  'Retry-After',
];

/** How the rate limiter treated a request, for the request's log line. */
export type RateLimitOutcome = 'exempt' | 'disabled' | 'allowed' | 'limited' | 'blocked' | 'failed-open';

/**
 * The request lifecycle of docs/architecture.md, in its order: preflight, exempt paths, client identity,
 * rate limit, gateway, headers, disposal through `waitUntil`, errors. Configuration is resolved
 * here once; the returned function is the per-request path.
 */
export function createHandler(deps: HandlerDeps): Handler {
  const { config, gateway, store, log } = deps;
  const now = deps.now ?? (() => performance.now());
  const development = config.environment === 'development';
  const cors = createCors({ origins: config.corsOrigins, exposeHeaders: exposedHeaders });
  const policyHeader = rateLimitPolicyHeader(config.policy);
  const storeFailures = throttledWarning(log, 10_000);
  const routes = new Map(Object.entries(deps.routes ?? {}));

  async function rateLimit(key: string, ctx: LifecycleContext): Promise<StoreDecision> {
    try {
      return await store.decide(key, config.policy, { waitUntil: (p) => ctx.waitUntil(p) });
    } catch (error) {
      // Stores with their own deadline and breaker never get here; this is the last guard.
      storeFailures(error);
      return { allowed: true, remaining: config.policy.limit, resetMs: config.policy.windowMs, source: 'failed-open' };
    }
  }

  async function readiness(response: Response): Promise<Response> {
    if (!response.ok) return response;
    // 200 either way: a degraded store (not answered yet, or failing) means requests are let
    // through or limited per instance, not that the gateway cannot serve.
    const health = store.health?.() ?? { status: 'ok' as const };
    const status = health.status === 'ok' ? 'ready' : 'degraded';
    return jsonResponse(200, { status, store: { kind: store.kind, ...health } });
  }

  return async function handle(request, ctx) {
    const started = now();

    // 1. Preflight fast path: no rate limiting, no gateway.
    const preflight = cors.preflight(request);
    if (preflight) return preflight;

    const requestId = requestIdOf(request);
    let decision: StoreDecision | undefined;
    let outcome: RateLimitOutcome = 'disabled';
    let rateLimitMs = 0;
    let gatewayMs = 0;
    let response: Response;
    let path = '';
    let key: string | undefined;
    let bounded: Request | Response;
    try {
      path = urlOf(request).pathname;
      // 2. Exempt paths. 3–4. Client identity and the rate-limit decision.
      const route = routes.get(path);
      if (route || exemptPaths.has(path)) outcome = 'exempt';
      else if (config.rateLimitEnabled) {
        const t0 = now();
        key = clientKey(request.headers, ctx.clientAddress, config.trustProxy);
        decision = await rateLimit(key, ctx);
        rateLimitMs = now() - t0;
        outcome = decision.source === 'failed-open' ? 'failed-open' : decision.allowed ? 'allowed' : decision.reason;
      }

      if (route) {
        response = await route(request);
      } else if (decision && !decision.allowed) {
        const retryAfter = toSeconds(decision.retryAfterMs);
        response = jsonResponse(
          429,
          errorBody(`Too many requests: retry in ${retryAfter} s.`, 'RATE_LIMITED', requestId, { retryAfter }),
        );
      } else if ((bounded = await boundBody(request, config.security.maxBodyBytes, requestId)) instanceof Response) {
        response = bounded; // 413: the body is over MAX_BODY_BYTES (src/security/body.ts).
      } else if (bounded.signal.aborted) {
        // The client left while it was rate limited or its body read (Node aborts the request's
        // signal when the connection closes): no gateway work for an answer nobody reads. 499 is
        // the status proxies log for this; it only reaches the log line and metrics.
        response = jsonResponse(499, errorBody('The client closed the request.', 'CLIENT_CLOSED_REQUEST', requestId));
      } else {
        // 5. The gateway; 7. its disposal handed to waitUntil, never awaited here.
        const t1 = now();
        const lease = gateway.acquire();
        try {
          // `handleRequest`, not `fetch`: `fetch` adds a promise and an abort listener per request
          // to reject as soon as the client leaves. Here a client that leaves mid-request still
          // gets its operation finished (the runtime would finish it anyway: its execution and
          // upstream cancellation are off), and its log line shows how it ended.
          // `req` (Node) only while the request is the one Node parsed (not a copy made for a
          // chunked body): the runtime then takes the headers for its context from it, as its
          // own Node adapter does, instead of wrapping the Request's in a proxy.
          response = await lease.runtime.handleRequest(withRequestId(bounded, requestId), {
            req: bounded === request ? ctx.req : undefined,
            waitUntil: (p: Promise<unknown> | void) => ctx.waitUntil(Promise.resolve(p)),
          });
          if (path === '/readiness') response = await readiness(response);
          if (response.status >= 400) response = await inErrorShape(response, requestId);
        } finally {
          if (lease.release) {
            ctx.waitUntil(
              lease.release().then(
                () => log.debug('gateway disposed', { requestId }),
                (error: unknown) => log.error('gateway disposal failed', { requestId, error }),
              ),
            );
          }
        }
        gatewayMs = now() - t1;
      }
    } catch (error) {
      // 8. Anything thrown becomes the one error shape.
      response = errorResponse(error, requestId, development);
      log.error('request failed', { requestId, error, ...(development && error instanceof Error ? { stack: error.stack } : {}) });
    }

    // 6. Headers, on whatever came back, errors included.
    response = mutable(response);
    const headers = response.headers;
    const totalMs = now() - started;
    const timings = { rateLimitMs, gatewayMs, totalMs };
    headers.set('X-Processing-Time', processingTime(timings));
    headers.set('Server-Timing', serverTiming(timings));
    headers.set('X-Request-Id', requestId);
    if (outcome !== 'exempt' && outcome !== 'disabled') setRateLimitHeaders(headers, policyHeader, decision);
    cors.apply(request, headers);

    const extra = deps.observe?.({
      requestId,
      method: request.method,
      path,
      status: response.status,
      clientKey: key,
      rateLimit: outcome,
      rateLimitSource: decision?.source,
      rateLimitMs,
      gatewayMs,
      totalMs,
    });
    if (log.enabled('info')) {
      log.info('request', {
        requestId,
        method: request.method,
        path,
        status: response.status,
        ms: Number(totalMs.toFixed(2)),
        rateLimit: outcome,
        ...(decision?.source && decision.source !== 'store' ? { rateLimitSource: decision.source } : {}),
        ...(decision?.cause ? { rateLimitCause: decision.cause } : {}),
        ...extra,
      });
    }
    return response;
  };
}

/**
 * The request's URL, parsed once: @whatwg-node's Node requests keep the parsed URL (`parsedUrl`),
 * which the runtime then reuses; other platforms' requests are parsed here.
 */
function urlOf(request: Request): URL {
  return (request as Request & { readonly parsedUrl?: URL }).parsedUrl ?? new URL(request.url);
}

/** A response whose headers may be changed (responses from fetch have immutable ones). */
function mutable(response: Response): Response {
  try {
    response.headers.set('X-Request-Id', '');
    return response;
  } catch {
    return new Response(response.body, response);
  }
}

/** Logs a failure at most once per interval, with the count since the last line. */
function throttledWarning(log: Logger, intervalMs: number): (error: unknown) => void {
  let lastAt = -Infinity;
  let suppressed = 0;
  return (error) => {
    const at = Date.now();
    if (at - lastAt < intervalMs) {
      suppressed++;
      return;
    }
    log.warn('rate-limit store failed; request allowed (fail open)', { error, suppressedSinceLast: suppressed });
    lastAt = at;
    suppressed = 0;
  };
}
