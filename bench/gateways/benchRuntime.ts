/**
 * The bare-runtime baseline: `createGatewayRuntime` with the options of Tollgate's
 * `createRuntime` (src/gateway/runtime.ts) that decide what is served (HTTP transport, endpoints,
 * no CORS, landing page or GraphiQL, logging at warn), and none of what Tollgate adds (security
 * plugins, upstream timeout, observability, the request lifecycle). Either query planner.
 */
import { createGatewayRuntime, type GatewayRuntime } from '@graphql-hive/gateway-runtime';
import { Logger as HiveLogger } from '@graphql-hive/logger';
import http from '@graphql-mesh/transport-http';
import { unifiedGraphHandlerFor, type QueryPlanner } from '../../src/gateway/planner.js';

export function benchRuntime(supergraphSdl: string, planner: QueryPlanner): GatewayRuntime {
  return createGatewayRuntime({
    supergraph: supergraphSdl,
    transports: { http },
    logging: new HiveLogger({ level: 'warn' }),
    cors: false,
    landingPage: false,
    graphiql: false,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/healthcheck',
    readinessCheckEndpoint: '/readiness',
    unifiedGraphHandler: unifiedGraphHandlerFor(planner),
  });
}

export function plannerFromEnv(): QueryPlanner {
  const value = process.env['QUERY_PLANNER'] ?? 'js';
  if (value !== 'js' && value !== 'rust') throw new Error(`QUERY_PLANNER must be js or rust, not ${value}`);
  return value;
}
