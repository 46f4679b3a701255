import { errorBody, jsonResponse } from '../../http/errors.js';
import type { Step } from '../compose.js';
import type { RequestContext } from '../context.js';

/**
 * A client that closed its connection while it was rate limited or its body read (Node aborts the
 * request's signal when the connection closes) gets 499 `CLIENT_CLOSED_REQUEST`: no gateway work
 * for an answer nobody reads. 499 is the status proxies log for this; it only reaches the log line
 * and metrics. A client that leaves later gets its operation finished.
 */
export function clientGone(): Step<RequestContext> {
  return async (c, next) => {
    if (!(c.body ?? c.request).signal.aborted) return next();
    c.response = jsonResponse(499, errorBody('The client closed the request.', 'CLIENT_CLOSED_REQUEST', c.requestId));
  };
}
