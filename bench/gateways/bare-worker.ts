/**
 * The bare Worker, the baseline of Tollgate's Worker: `export default { fetch }` around one
 * `createGatewayRuntime`, created on the first request and reused by every later one (as
 * Tollgate's `isolate` lifecycle does), with the options of the Node bare runtime
 * (bench/gateways/benchRuntime.ts) and the runtime's JavaScript planner (the only one on
 * Workers). None of what Tollgate adds: no CORS, rate limit, request id and timing headers, body
 * bound, error shape, security plugins, upstream timeout or request log line.
 *
 * The supergraph SDL comes as the `SUPERGRAPH_SDL` text binding. Bundled by bench/worker.ts with
 * `wrangler deploy --dry-run` (bare-worker.wrangler.toml) and served in workerd through Miniflare.
 */
import { createGatewayRuntime, type GatewayRuntime } from '@graphql-hive/gateway-runtime';
import { Logger as HiveLogger } from '@graphql-hive/logger';
import http from '@graphql-mesh/transport-http';

interface Env {
  readonly SUPERGRAPH_SDL: string;
}

interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

let runtime: GatewayRuntime | undefined;

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
    runtime ??= createGatewayRuntime({
      supergraph: env.SUPERGRAPH_SDL,
      transports: { http },
      logging: new HiveLogger({ level: 'warn' }),
      cors: false,
      landingPage: false,
      graphiql: false,
      graphqlEndpoint: '/graphql',
      healthCheckEndpoint: '/healthcheck',
      readinessCheckEndpoint: '/readiness',
    });
    return runtime.handleRequest(request, { waitUntil: (p: Promise<unknown> | void) => ctx.waitUntil(Promise.resolve(p)) });
  },
};
