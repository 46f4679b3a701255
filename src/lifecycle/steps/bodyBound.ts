import { boundBody } from '../../security/body.js';
import type { Step } from '../compose.js';
import type { RequestContext } from '../context.js';

/**
 * The body bound: a body over `MAX_BODY_BYTES` is answered 413 before the gateway reads anything
 * (a `Content-Length` over it at once; a chunked body as soon as it passes it, the rest never
 * read; src/security/body.ts). Otherwise the request the gateway is to read goes on the context.
 *
 * @example bodyBound(102_400)
 */
export function bodyBound(maxBytes: number): Step<RequestContext> {
  return async (c, next) => {
    const bounded = await boundBody(c.request, maxBytes, c.requestId);
    if (bounded instanceof Response) {
      c.response = bounded;
      return;
    }
    c.body = bounded;
    return next();
  };
}
