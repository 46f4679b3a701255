/**
 * The one JSON error shape (docs/architecture.md, "Errors and statuses"):
 * `{ "errors": [ { "message", "extensions": { "code", "requestId", … } } ] }`.
 */

export type ErrorCode =
  | 'RATE_LIMITED'
  | 'BAD_REQUEST'
  | 'GRAPHQL_VALIDATION_FAILED'
  | 'INTERNAL_SERVER_ERROR'
  | 'SERVICE_UNAVAILABLE'
  | (string & {});

export interface ErrorBody {
  errors: { message: string; extensions: { code: ErrorCode; requestId: string; [key: string]: unknown } }[];
}

export function errorBody(message: string, code: ErrorCode, requestId: string, extra: Record<string, unknown> = {}): ErrorBody {
  return { errors: [{ message, extensions: { ...extra, code, requestId } }] };
}

export function jsonResponse(status: number, body: unknown, headers?: HeadersInit): Response {
  const response = new Response(JSON.stringify(body), { status, headers });
  response.headers.set('Content-Type', 'application/json; charset=utf-8');
  return response;
}

/** A GraphQLError from any copy of graphql-js (checked by shape, not by class identity). */
function isGraphQLError(error: unknown): error is Error & { extensions?: Record<string, unknown> } {
  return error instanceof Error && (error.name === 'GraphQLError' || error.constructor?.name === 'GraphQLError');
}

/**
 * Client mistakes that surface as exceptions: bad JSON. (Unreadable bodies are answered 400 where
 * they are read, src/security/body.ts; an error merely named like a body's, such as undici's
 * upstream `BodyTimeoutError`, is not the client's.)
 */
function isBadRequest(error: unknown): boolean {
  return error instanceof SyntaxError;
}

/**
 * Turns anything thrown while handling a request into the error response: 400 for GraphQL errors
 * and unreadable request bodies, 500 otherwise with a generic message in production.
 * `extensions.stacktrace` is present in development only.
 */
export function errorResponse(error: unknown, requestId: string, development: boolean): Response {
  const graphql = isGraphQLError(error);
  const badRequest = graphql || isBadRequest(error);
  const status = badRequest ? 400 : 500;
  const code = graphql ? String(error.extensions?.['code'] ?? 'BAD_REQUEST') : badRequest ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR';
  const message =
    badRequest && error instanceof Error ? error.message : development && error instanceof Error ? error.message : 'Unexpected error.';
  const extra: Record<string, unknown> = {};
  if (development && error instanceof Error && error.stack) {
    extra['stacktrace'] = error.stack.split('\n');
  }
  return jsonResponse(status, errorBody(message, code, requestId, extra));
}
