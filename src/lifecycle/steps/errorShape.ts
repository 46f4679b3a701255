import { errorResponse } from '../../http/errors.js';
import { requestIdOf } from '../../http/requestId.js';
import type { Logger } from '../../log.js';
import type { OnError } from '../compose.js';
import type { RequestContext } from '../context.js';

/**
 * The error shape: anything a step throws becomes the one JSON error response (400 for GraphQL
 * errors and unreadable bodies, else 500 with `Unexpected error.` in production; the message and
 * `extensions.stacktrace` in development) and one `request failed` line. `compose` applies it at
 * the step that threw, so every step around it (headers, CORS, the log line) treats the error
 * response like any other answer, and nothing escapes as an unhandled rejection.
 *
 * @example compose(steps, errorShape({ development: false, log }))
 */
export function errorShape(options: { readonly development: boolean; readonly log: Logger }): OnError<RequestContext> {
  const { development, log } = options;
  return (error, c) => {
    c.requestId ||= requestIdOf(c.request);
    c.response = errorResponse(error, c.requestId, development);
    log.error('request failed', {
      requestId: c.requestId,
      error,
      ...(development && error instanceof Error ? { stack: error.stack } : {}),
    });
  };
}
