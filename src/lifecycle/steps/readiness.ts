import { jsonResponse } from '../../http/errors.js';
import type { RateLimitStore } from '../../ratelimit/store.js';
import type { Step } from '../compose.js';
import type { RequestContext } from '../context.js';

/**
 * `/readiness` reports the rate-limit store beside the runtime's own answer:
 * `{"status":"ready","store":{"kind":"redis","status":"ok"}}`, or `"degraded"` while the store
 * has not answered yet or is failing. 200 either way: a degraded store means requests are let
 * through or limited per instance, not that the gateway cannot serve.
 */
export function readiness(store: RateLimitStore): Step<RequestContext> {
  return async (c, next) => {
    if (c.path !== '/readiness') return next();
    await next();
    if (!c.response.ok) return;
    const health = store.health?.() ?? { status: 'ok' as const };
    const status = health.status === 'ok' ? 'ready' : 'degraded';
    c.response = jsonResponse(200, { status, store: { kind: store.kind, ...health } });
  };
}
