import { exempt } from '../../ratelimit/result.js';
import type { Step } from '../compose.js';
import type { RequestContext } from '../context.js';

/** An endpoint answered by Tollgate itself (e.g. `/metrics`), without rate limiting or the gateway. */
export type Route = (request: Request) => Response | Promise<Response>;

/** The runtime's own endpoints that are never rate limited; the gateway still answers them. */
export const exemptPaths: ReadonlySet<string> = new Set(['/healthcheck', '/readiness']);

/**
 * Exempt routes: a path in `routes` is answered here by its route; it and the runtime's health
 * and readiness paths are marked `exempt`, so the identity and rate-limit steps pass them by.
 *
 * @example exemptRoutes({ '/metrics': metricsRoute(metrics, token) })
 */
export function exemptRoutes(routes: Readonly<Record<string, Route>> = {}): Step<RequestContext> {
  const byPath = new Map(Object.entries(routes));
  return async (c, next) => {
    const route = byPath.get(c.path);
    if (route === undefined && !exemptPaths.has(c.path)) return next();
    c.rateLimit = exempt;
    if (route === undefined) return next();
    c.response = await route(c.request);
  };
}
