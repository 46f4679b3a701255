import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createServerAdapter } from '@whatwg-node/server';
import { errorBody, jsonResponse } from '../http/errors.js';
import { listen } from '../http/listen.js';
import { requestIdOf } from '../http/requestId.js';
import type { PrometheusMetrics } from './prometheus.js';

/** The scrape path, on the gateway's port or on `METRICS_PORT`. */
export const metricsPath = '/metrics';

/**
 * The `/metrics` endpoint: GET (or HEAD) answers the exposition text; with a token, only to
 * `Authorization: Bearer <token>` (compared in constant time), else 401.
 *
 * @example createTollgate(config, { ..., routes: { '/metrics': metricsRoute(metrics, env.METRICS_TOKEN) } })
 */
export function metricsRoute(metrics: PrometheusMetrics, token: string | undefined): (request: Request) => Promise<Response> {
  const expected = token === undefined ? undefined : digest(token);
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return jsonResponse(405, errorBody('Use GET.', 'METHOD_NOT_ALLOWED', requestIdOf(request)), { Allow: 'GET, HEAD' });
    }
    if (expected !== undefined && !authorized(request.headers.get('authorization'), expected)) {
      return jsonResponse(401, errorBody('A bearer token is required.', 'UNAUTHENTICATED', requestIdOf(request)), {
        'WWW-Authenticate': 'Bearer realm="metrics"',
      });
    }
    const { body, contentType } = await metrics.scrape();
    return new Response(request.method === 'HEAD' ? null : body, {
      status: 200,
      headers: { 'Content-Type': contentType, 'Cache-Control': 'no-store' },
    });
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function authorized(header: string | null, expected: Buffer): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match !== null && timingSafeEqual(digest(match[1]!), expected);
}

export interface MetricsServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  close(): Promise<void>;
}

/** `/metrics` alone on its own listener (`METRICS_PORT`); every other path is 404. */
export async function startMetricsServer(options: {
  readonly route: (request: Request) => Promise<Response>;
  readonly port: number;
  readonly host: string;
}): Promise<MetricsServer> {
  const adapter = createServerAdapter((request: Request) =>
    new URL(request.url).pathname === metricsPath
      ? options.route(request)
      : jsonResponse(404, errorBody('Not found: this port serves /metrics only.', 'NOT_FOUND', requestIdOf(request))),
  );
  const server: Server = createServer(adapter);
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  const url = await listen(server, options.port, options.host, { port: 'METRICS_PORT', host: 'METRICS_HOST' });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
