import { jsonResponse } from '../../http/errors.js';
import type { RateLimitStore } from '../../ratelimit/store.js';
import { readinessOf, supergraphReport, type SupergraphState } from '../../supergraph/state.js';
import type { Step } from '../compose.js';
import type { RequestContext } from '../context.js';

/**
 * `/readiness` answers one shape:
 * `{"status":"ready","store":{"kind":"redis","status":"ok"},"supergraph":{"version","loadedAt","lastUpdate":{"ok","at","error"?}}}`.
 * `"degraded"` while the store has not answered yet or is failing, or the last supergraph update
 * failed (the last good graph is served): 200 either way, the gateway serves. 503 only when no
 * supergraph is loaded (or the runtime says it is not ready).
 */
export function readiness(store: RateLimitStore, supergraph?: () => SupergraphState): Step<RequestContext> {
  return async (c, next) => {
    if (c.path !== '/readiness') return next();
    const health = store.health?.() ?? { status: 'ok' as const };
    const state = supergraph?.();
    if (state !== undefined && state.version === undefined) {
      c.response = jsonResponse(503, { status: 'degraded', store: { kind: store.kind, ...health }, supergraph: supergraphReport(state) });
      return;
    }
    await next();
    if (!c.response.ok) return;
    const storeOk = health.status === 'ok';
    if (state === undefined) {
      c.response = jsonResponse(200, { status: storeOk ? 'ready' : 'degraded', store: { kind: store.kind, ...health } });
      return;
    }
    const { httpStatus, status } = readinessOf(state, storeOk);
    c.response = jsonResponse(httpStatus, { status, store: { kind: store.kind, ...health }, supergraph: supergraphReport(state) });
  };
}
