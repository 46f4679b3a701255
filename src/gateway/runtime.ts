import { Logger as HiveLogger, type LogWriter } from '@graphql-hive/logger';
import { createGatewayRuntime, type GatewayConfigBase, type GatewayRuntime } from '@graphql-hive/gateway-runtime';
import http from '@graphql-mesh/transport-http';
import type { Logger } from '../log.js';

export interface RuntimeOptions {
  /** The supergraph SDL text. */
  readonly supergraphSdl: string;
  readonly development: boolean;
  readonly log: Logger;
  /** Runtime plugins (envelop/Yoga/gateway) added by other modules: security limits, metrics. */
  readonly plugins?: GatewayConfigBase<Record<string, unknown>>['plugins'];
}

/**
 * Creates The Guild's gateway runtime for one supergraph. CORS, rate limiting and the error
 * shape are Tollgate's, so the runtime's own CORS is off; its request ids, health/readiness
 * endpoints, error masking and GraphQL-over-HTTP status codes are kept.
 */
export function createRuntime(options: RuntimeOptions): GatewayRuntime {
  return createGatewayRuntime({
    supergraph: options.supergraphSdl,
    transports: { http },
    logging: new HiveLogger({ level: hiveLevel(options.log), writers: [logWriter(options.log)] }),
    cors: false,
    landingPage: false,
    graphiql: options.development,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/healthcheck',
    readinessCheckEndpoint: '/readiness',
    ...(options.plugins ? { plugins: options.plugins } : {}),
  });
}

function hiveLevel(log: Logger): 'debug' | 'info' | 'warn' | 'error' {
  if (log.enabled('debug')) return 'debug';
  if (log.enabled('info')) return 'info';
  return log.enabled('warn') ? 'warn' : 'error';
}

/** Routes the runtime's logs into Tollgate's JSON lines, marked as the runtime's. */
function logWriter(log: Logger): LogWriter {
  return {
    write(level, attrs, msg) {
      const fields = attrs && !Array.isArray(attrs) ? { component: 'runtime', ...attrs } : { component: 'runtime', attrs };
      const text = msg ?? '';
      if (level === 'trace' || level === 'debug') log.debug(text, fields);
      else log[level](text, fields);
    },
  };
}
