import type { Identity } from '../../identity/identity.js';
import type { LogFields, Logger } from '../../log.js';
import { rateLimitLogFields, type RateLimitResult } from '../../ratelimit/result.js';
import type { Step } from '../compose.js';
import type { RequestContext } from '../context.js';

/** What one request came to: the request log line's figures, for metrics and other observers. */
export interface RequestEvent {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly clientKey: string | undefined;
  /** The client's address key (the same as `clientKey` unless a token or key decided the identity). */
  readonly address: string | undefined;
  /** Who was asking (src/identity/identity.ts); undefined when not decided. */
  readonly identity: Identity | undefined;
  /** The rate-limit step's result (src/ratelimit/result.ts). */
  readonly rateLimit: RateLimitResult;
  readonly rateLimitMs: number;
  /** The operation's estimated cost (a batch's sum), when priced. */
  readonly cost: number | undefined;
  /** Its actual cost once executed, when known (src/cost/actual.ts). */
  readonly actualCost: number | undefined;
  readonly gatewayMs: number;
  readonly totalMs: number;
  /** The request the runtime handled (per-request records are kept against it); unset when the gateway was not reached. */
  readonly runtimeRequest: Request | undefined;
}

/** Called once per handled request (not preflights); fields it returns go on the request's log line. */
export type Observer = (event: RequestEvent) => LogFields | void;

/**
 * The request's log line: once the request is answered, the observer (metrics, the operation and
 * client fields) sees what it came to, and one `request` line is written at `info`: request id,
 * method, path, status, `ms`, the rate-limit result's fields (`rateLimitLogFields`), `cost` and
 * `actualCost` when priced, `gatewayMs`,
 * then the observer's fields. An observer that throws costs the line its fields, never the request.
 *
 * @example requestLog({ log, observe: (event) => ({ operation: operations.get(event.requestId) }) })
 */
export function requestLog(options: { readonly log: Logger; readonly observe?: Observer | undefined }): Step<RequestContext> {
  const { log, observe } = options;
  return async (c, next) => {
    await next();
    const event: RequestEvent = {
      requestId: c.requestId,
      method: c.request.method,
      path: c.path,
      status: c.response.status,
      clientKey: c.clientKey,
      address: c.address,
      identity: c.identity,
      rateLimit: c.rateLimit,
      rateLimitMs: c.rateLimitMs,
      cost: c.cost,
      actualCost: c.actualCost,
      gatewayMs: c.gatewayMs,
      totalMs: c.totalMs,
      runtimeRequest: c.runtimeRequest,
    };
    let extra: LogFields | undefined;
    try {
      extra = observe?.(event) ?? undefined;
    } catch (error) {
      extra = undefined;
      log.error('observing a request failed', { requestId: c.requestId, error });
    }
    if (!log.enabled('info')) return;
    log.info('request', {
      requestId: c.requestId,
      method: event.method,
      path: c.path,
      status: event.status,
      ms: round(c.totalMs),
      ...rateLimitLogFields(c.rateLimit, c.rateLimitMs),
      ...(c.cost !== undefined && { cost: c.cost }),
      ...(c.actualCost !== undefined && { actualCost: c.actualCost }),
      ...(c.gatewayMs > 0 ? { gatewayMs: round(c.gatewayMs) } : {}),
      ...extra,
    });
  };
}

function round(ms: number): number {
  return Number(ms.toFixed(2));
}
