import { AsyncLocalStorage } from 'node:async_hooks';
import { requestIdOf, withRequestId } from '../http/requestId.js';
import type { Handler } from '../lifecycle/handle.js';
import type { Logger } from '../log.js';

const current = new AsyncLocalStorage<string>();

/**
 * Runs each request inside an async context holding its request id, so that every line logged
 * while it is handled can carry the id, including the runtime's own lines that are written
 * without one (its request parsing, its first supergraph load). The id is fixed here, on the
 * request's `X-Request-Id`, exactly as the lifecycle would choose it, so both agree.
 * (`AsyncLocalStorage`: Node, and workerd with `nodejs_compat`.)
 *
 * @example startNodeServer({ handler: inRequestContext(tollgate.handler), ... })
 */
export function inRequestContext(handler: Handler): Handler {
  return (request, ctx) => {
    const requestId = requestIdOf(request);
    return current.run(requestId, handler, withRequestId(request, requestId), ctx);
  };
}

/** `log`, with the current request's id added to lines that have none. */
export function withCurrentRequestId(log: Logger): Logger {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (msg: string, fields?: Record<string, unknown>): void => {
      const requestId = fields?.['requestId'] === undefined ? current.getStore() : undefined;
      log[level](msg, requestId === undefined ? fields : { requestId, ...fields });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), enabled: (level) => log.enabled(level) };
}
