/** A client's own request id is kept when it is a plain token of sane length. */
const saneRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id for `request`: the client's `X-Request-Id` if sane, else a new UUID. */
export function requestIdOf(request: Request): string {
  const own = request.headers.get('x-request-id');
  return own !== null && saneRequestId.test(own) ? own : crypto.randomUUID();
}

/**
 * Where the lifecycle hands the request id to the runtime: a field of the server context, which
 * the runtime's request-id option reads (`runtimeRequestId` in src/gateway/runtime.ts) and which
 * the GraphQL context carries (`requestIdInContext`).
 */
export const requestIdField = 'tollgateRequestId';

/**
 * `request` as the runtime may be given it alongside its id in the server context
 * (`requestIdField`): the runtime takes a request's own `X-Request-Id` over any other, so a request
 * carrying a different one (one the lifecycle refused) gets the id set on it. A request with none
 * or with the same one is passed on as it is: no copy (Workers' incoming requests have immutable
 * headers, so setting one costs a copy of the request).
 */
export function forRuntime(request: Request, id: string): Request {
  const own = request.headers.get('x-request-id');
  return own === null || own === id ? request : withRequestId(request, id);
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
 * The request id in a GraphQL context: the one the lifecycle handed the runtime in its server
 * context (`requestIdField`), else the `X-Request-Id` of the request the runtime handles (the
 * context's `request`).
 */
export function requestIdInContext(context: unknown): string | undefined {
  const given = (context as Record<string, unknown> | undefined)?.[requestIdField];
  if (typeof given === 'string') return given;
  const request = (context as { request?: { headers?: { get?(name: string): string | null } } } | undefined)?.request;
  return request?.headers?.get?.('x-request-id') ?? undefined;
}
