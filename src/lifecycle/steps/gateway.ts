import { costReportField, graphqlParamsField } from '../../gateway/costReport.js';
import { forRuntime, requestIdField } from '../../http/requestId.js';
import type { GatewayProvider } from '../../gateway/lifecycle.js';
import type { Logger } from '../../log.js';
import { inErrorShape } from '../../security/errorShape.js';
import type { Step } from '../compose.js';
import type { RequestContext } from '../context.js';

export interface GatewayStepOptions {
  readonly gateway: GatewayProvider;
  readonly log: Logger;
  /** A monotonic clock in milliseconds, for `gatewayMs`. */
  readonly now: () => number;
}

/**
 * The gateway: the runtime (created or reused, src/gateway/lifecycle.ts) answers the request, its
 * errors rewritten into the one shape; the time spent is measured. Whatever must be released (a
 * per-request runtime) is handed to `waitUntil`, never awaited before the response.
 *
 * @example gateway({ gateway: createGatewayProvider('isolate', (supergraph) => createRuntime({ ...options, supergraph })), log, now })
 */
export function gateway(options: GatewayStepOptions): Step<RequestContext> {
  const { gateway, log, now } = options;
  return async (c) => {
    const started = now();
    const body = c.body ?? c.request;
    const { requestId, platform } = c;
    const lease = gateway.acquire();
    try {
      // `handleRequest`, not `fetch`: `fetch` adds a promise and an abort listener per request
      // to reject as soon as the client leaves. Here a client that leaves mid-request still
      // gets its operation finished (the runtime would finish it anyway: its execution and
      // upstream cancellation are off), and its log line shows how it ended.
      // `req` (Node) only while the request is the one Node parsed (not a copy made for a
      // chunked body): the runtime then takes the headers for its context from it, as its
      // own Node adapter does, instead of wrapping the Request's in a proxy.
      // The request id goes in the server context, where the runtime's request-id option finds
      // it (src/gateway/runtime.ts): the request needs no copy to carry it as a header.
      const runtimeRequest = (c.runtimeRequest = forRuntime(body, requestId));
      let response = await lease.runtime.handleRequest(runtimeRequest, {
        [requestIdField]: requestId,
        ...(c.costReport && { [costReportField]: c.costReport }),
        ...(c.graphqlParams !== undefined && { [graphqlParamsField]: c.graphqlParams }),
        req: body === c.request ? platform.req : undefined,
        waitUntil: (p: Promise<unknown> | void) => platform.waitUntil(Promise.resolve(p)),
      });
      if (response.status >= 400) response = await inErrorShape(response, requestId);
      c.response = mutable(response);
    } finally {
      if (lease.release) {
        platform.waitUntil(
          lease.release().then(
            () => log.debug('gateway disposed', { requestId }),
            (error: unknown) => log.error('gateway disposal failed', { requestId, error }),
          ),
        );
      }
    }
    c.gatewayMs = now() - started;
  };
}

/** A response whose headers the steps around may change (responses from fetch have immutable ones). */
function mutable(response: Response): Response {
  try {
    response.headers.set('X-Request-Id', '');
    return response;
  } catch {
    return new Response(response.body, response);
  }
}
