import type { Step } from '../compose.js';
import type { RequestContext } from '../context.js';

/** Headers a browser page may read from every response (the other steps write them). */
export const exposedHeaders = ['X-Processing-Time', 'Server-Timing', 'X-Request-Id', 'RateLimit-Policy', 'RateLimit', 'Retry-After'];

export interface CorsOptions {
  /** `*` or the exact origins allowed. */
  readonly origins: '*' | readonly string[];
  /** Response headers a page's script may read. */
  readonly exposeHeaders: readonly string[];
  readonly allowMethods?: readonly string[];
  /** Seconds a browser may cache a preflight. */
  readonly maxAge?: number;
}

/**
 * The lifecycle's CORS step, the whole of CORS in one place: a preflight (`OPTIONS` with `Origin`
 * and `Access-Control-Request-Method`) is answered here at once, 204, never rate limited, never
 * reaching the gateway; every other answer, errors included, gets the CORS headers on its way out.
 * The origins are resolved once; per request only the origin is looked up.
 *
 * @example
 * cors({ origins: ['https://app.example.com'], exposeHeaders: exposedHeaders })
 */
export function cors(options: CorsOptions): Step<RequestContext> {
  const policy = createCors(options);
  return async (c, next) => {
    const preflight = policy.preflight(c.request);
    if (preflight) {
      c.response = preflight;
      return;
    }
    await next();
    policy.apply(c.request, c.response.headers);
  };
}

export interface Cors {
  /** The 204 answer to a CORS preflight, or undefined when `request` is not one. */
  preflight(request: Request): Response | undefined;
  /** Adds the CORS headers for `request`'s origin to `headers`. */
  apply(request: Request, headers: Headers): void;
}

/** A comma-separated list of header names (tokens), nothing else echoed back. */
const headerList = /^\s*[!#$%&'*+.^_`|~\w-]+(\s*,\s*[!#$%&'*+.^_`|~\w-]+)*\s*$/;

/** The preflight answer and the response headers for one set of options. */
export function createCors(options: CorsOptions): Cors {
  const anyOrigin = options.origins === '*';
  const allowed = new Set(anyOrigin ? [] : options.origins);
  const allowMethods = (options.allowMethods ?? ['GET', 'POST', 'OPTIONS']).join(', ');
  const exposeHeaders = options.exposeHeaders.join(', ');
  const maxAge = String(options.maxAge ?? 600);

  /** The value for Access-Control-Allow-Origin, or undefined when the origin is not allowed. */
  const allowOrigin = (origin: string | null): string | undefined => {
    if (anyOrigin) return '*';
    return origin !== null && allowed.has(origin) ? origin : undefined;
  };

  const apply = (request: Request, headers: Headers): void => {
    const origin = request.headers.get('origin');
    // With an allowlist the answer depends on Origin, so caches must key on it.
    if (!anyOrigin) headers.append('Vary', 'Origin');
    const value = allowOrigin(origin);
    if (value === undefined) return;
    headers.set('Access-Control-Allow-Origin', value);
    headers.set('Access-Control-Expose-Headers', exposeHeaders);
  };

  return {
    apply,
    preflight(request) {
      if (request.method !== 'OPTIONS') return undefined;
      const requestedMethod = request.headers.get('access-control-request-method');
      if (request.headers.get('origin') === null || requestedMethod === null) return undefined;
      const headers = new Headers();
      apply(request, headers);
      if (headers.has('Access-Control-Allow-Origin')) {
        headers.set('Access-Control-Allow-Methods', allowMethods);
        const requestedHeaders = request.headers.get('access-control-request-headers');
        if (requestedHeaders !== null && headerList.test(requestedHeaders)) {
          headers.set('Access-Control-Allow-Headers', requestedHeaders);
          headers.append('Vary', 'Access-Control-Request-Headers');
        }
        headers.set('Access-Control-Max-Age', maxAge);
      }
      return new Response(null, { status: 204, headers });
    },
  };
}
