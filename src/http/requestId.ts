/** A client's own request id is kept when it is a plain token of sane length. */
const saneRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id for `request`: the client's `X-Request-Id` if sane, else a new UUID. */
export function requestIdOf(request: Request): string {
  const own = request.headers.get('x-request-id');
  return own !== null && saneRequestId.test(own) ? own : crypto.randomUUID();
}

/** `request` carrying `X-Request-Id: id`, so the runtime logs and forwards the same id. */
export function withRequestId(request: Request, id: string): Request {
  if (request.headers.get('x-request-id') === id) return request;
  try {
    request.headers.set('x-request-id', id);
    return request;
  } catch {
    // Immutable headers (workerd's incoming requests): copy the request, body included.
    const headers = new Headers(request.headers);
    headers.set('x-request-id', id);
    return new Request(request, { headers });
  }
}

/**
 * The request id in a GraphQL context: the `X-Request-Id` the lifecycle put on the request the
 * runtime handles (the context's `request`).
 */
export function requestIdInContext(context: unknown): string | undefined {
  const request = (context as { request?: { headers?: { get?(name: string): string | null } } } | undefined)?.request;
  return request?.headers?.get?.('x-request-id') ?? undefined;
}
