import type { Config } from '../config.js';
import type { GatewayProvider } from '../gateway/lifecycle.js';
import { pathOf } from '../http/path.js';
import type { Logger } from '../log.js';
import type { RateLimitStore } from '../ratelimit/store.js';
import { compose, type Step } from './compose.js';
import { RequestContext, type PlatformContext } from './context.js';
import type { CurrentEstimator } from '../cost/current.js';
import { bodyBound } from './steps/bodyBound.js';
import { costCeiling, operationCost } from './steps/operationCost.js';
import { costReport } from './steps/costReport.js';
import { clientGone } from './steps/clientGone.js';
import { clientIdentity } from './steps/clientIdentity.js';
import { cors, exposedHeaders } from './steps/cors.js';
import { errorShape } from './steps/errorShape.js';
import { exemptRoutes, type Route } from './steps/exemptRoutes.js';
import { gateway } from './steps/gateway.js';
import { credentialRequired, identity } from './steps/identity.js';
import { rateLimit } from './steps/rateLimit.js';
import type { SupergraphState } from '../supergraph/state.js';
import { readiness } from './steps/readiness.js';
import { requestIdAndTiming } from './steps/requestIdAndTiming.js';
import { requestLog, type Observer } from './steps/requestLog.js';

export type { PlatformContext } from './context.js';
export type { RequestEvent } from './steps/requestLog.js';

export interface HandlerDeps {
  readonly config: Config;
  readonly gateway: GatewayProvider;
  readonly store: RateLimitStore;
  readonly log: Logger;
  /** A monotonic clock in milliseconds. */
  readonly now?: () => number;
  /** Wall-clock milliseconds for token times and the key cache (default `Date.now`). */
  readonly wallClock?: () => number;
  /** How JWKS documents are fetched (default the global `fetch`). */
  readonly fetch?: typeof fetch;
  /**
   * Extra endpoints answered without rate limiting or the gateway (e.g. `/metrics`); they get
   * the usual headers. Keyed by exact path.
   */
  readonly routes?: Readonly<Record<string, Route>>;
  /**
   * Called once per handled request (not preflights) with what happened, just before the
   * request's log line is written; fields it returns are added to that line.
   */
  readonly observe?: Observer;
  /** The served supergraph's state, for `/readiness` (src/supergraph/state.ts). */
  readonly supergraph?: () => SupergraphState;
  /** The served supergraph's cost estimator, when operations are priced (`MAX_COST` or a cost policy). */
  readonly costs?: CurrentEstimator;
}

export type Handler = (request: Request, platform: PlatformContext) => Promise<Response>;

/**
 * The request lifecycle (docs/architecture.md, "The request lifecycle"): the list below, composed
 * once; each step is a module of its own under ./steps. A step may answer and stop there, or call
 * `next()` and then work on the answer that came back, so the steps near the top decorate every
 * answer, errors included. Per-request state is the one `RequestContext`.
 *
 * @example
 * const handle = createHandler({ config, gateway, store, log });
 * const response = await handle(request, { waitUntil: (p) => ctx.waitUntil(p) });
 */
export function createHandler(deps: HandlerDeps): Handler {
  const { config, store, log } = deps;
  const now = deps.now ?? (() => performance.now());

  const { identity: identityConfig } = config;
  const costs = deps.costs;
  const costOptions = { maxCost: config.cost.maxCost, maxTokens: config.security.maxTokens, batchLimit: config.security.batchLimit };
  const credentialsRequired = identityConfig.jwtRequired || identityConfig.apiKeyRequired;
  const identitySteps = [
    clientIdentity(config.trustProxy), // the client's address key
    identity(identityConfig, { now: deps.wallClock, fetch: deps.fetch }), // who is asking: a verified token or key, else the address
  ];

  const steps: Step<RequestContext>[] = [
    cors({ origins: config.corsOrigins, exposeHeaders: exposedHeaders }), // preflight answered; CORS headers on every answer
    requestLog({ log, observe: deps.observe }), // the request's log line and its observer, once answered
    requestIdAndTiming(now), // X-Request-Id, X-Processing-Time, Server-Timing
    exemptRoutes(deps.routes), // /healthcheck, /readiness, /metrics: never rate limited
    ...(config.rateLimitEnabled || credentialsRequired ? identitySteps : []),
    // Pricing reads the body before the rate limit: request and cost policies are decided together.
    ...(costs ? [bodyBound(config.security.maxBodyBytes), operationCost({ estimator: costs, ...costOptions })] : []),
    ...(config.rateLimitEnabled ? [rateLimit({ store, policies: config.policies, log, now })] : []), // the one result; 429; RateLimit headers
    ...(credentialsRequired ? [credentialRequired()] : []), // 401 without a valid token or key (after counting)
    ...(costs ? [costCeiling()] : [bodyBound(config.security.maxBodyBytes)]), // 400 over MAX_COST; 413 before the gateway reads
    ...(costs ? [costReport({ estimator: costs, store, extensions: config.cost.extensions, now, log })] : []), // actual cost, extensions.cost, refunds
    clientGone(), // 499 when the client left before the gateway started
    readiness(store, deps.supergraph), // /readiness reports the store and the supergraph
    gateway({ gateway: deps.gateway, log, now }), // the runtime answers; disposal through waitUntil
  ];
  const lifecycle = compose(steps, errorShape({ development: config.environment === 'development', log }));

  return async (request, platform) => {
    const c = new RequestContext(request, platform, pathOfRequest(request));
    await lifecycle(c);
    return c.response;
  };
}

/**
 * The request's path: @whatwg-node's Node requests keep the parsed URL (`parsedUrl`), which the
 * runtime then reuses; other platforms' request URLs are read by `pathOf`.
 */
function pathOfRequest(request: Request): string {
  return (request as Request & { readonly parsedUrl?: URL }).parsedUrl?.pathname ?? pathOf(request.url);
}
