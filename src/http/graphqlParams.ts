/**
 * The GraphQL parameters of a POST request, read as the runtime (GraphQL Yoga) reads them, so
 * that what Tollgate prices is what the runtime executes: the same content types, matched the
 * same way, parsed the same way. Yoga's parsers (graphql-yoga, `plugins/request-parser/`):
 *
 * - `application/json`, `application/graphql+json`: the body as JSON (an object, or a batch's
 *   array);
 * - `application/graphql`: the body is the query;
 * - `application/x-www-form-urlencoded`: `query`, `operationName`, and `variables` and
 *   `extensions` as JSON.
 *
 * A content type is matched on the first of a comma-separated list, exactly or followed by `;`.
 * Multipart is off in the runtime (it answers 415), as is any other type: not read here.
 */

export type ParamsRead =
  /** The parameters, and the body's text they came from. */
  | { readonly kind: 'params'; readonly params: unknown; readonly text: string }
  /** A body of a GraphQL content type that does not parse: the runtime answers it, from `text`. */
  | { readonly kind: 'invalid'; readonly text: string }
  /** Not a body of a GraphQL content type: the runtime answers it, body unread. */
  | { readonly kind: 'other' };

const json = ['application/json', 'application/graphql+json'];
const graphql = 'application/graphql';
const form = 'application/x-www-form-urlencoded';

/** Reads a POST request's body (consuming it) when its content type is one the runtime parses. Rejects when the body cannot be read. */
export async function readGraphQLParams(request: Request): Promise<ParamsRead> {
  const type = (request.headers.get('content-type') ?? '').split(',')[0]!;
  const matches = (expected: string): boolean => type === expected || type.startsWith(`${expected};`);
  const kind = json.some(matches) ? 'json' : matches(graphql) ? 'graphql' : matches(form) ? 'form' : undefined;
  if (kind === undefined) return { kind: 'other' };
  const text = await request.text();
  if (kind === 'graphql') return { kind: 'params', params: { query: text }, text };
  try {
    if (kind === 'form') return { kind: 'params', params: fromSearchParams(new URLSearchParams(text)), text };
    const params: unknown = JSON.parse(text);
    // Yoga refuses null and non-objects with its own message: left to it.
    return typeof params === 'object' && params !== null ? { kind: 'params', params, text } : { kind: 'invalid', text };
  } catch {
    return { kind: 'invalid', text };
  }
}

/** Yoga's reading of URL search parameters (a GET's, or a form body's); throws on JSON that does not parse. */
export function fromSearchParams(searchParams: URLSearchParams): Record<string, unknown> {
  const variables = searchParams.get('variables') || undefined;
  const extensions = searchParams.get('extensions') || undefined;
  return {
    operationName: searchParams.get('operationName') || undefined,
    query: searchParams.get('query') || undefined,
    variables: variables ? JSON.parse(variables) : undefined,
    extensions: extensions ? JSON.parse(extensions) : undefined,
  };
}
