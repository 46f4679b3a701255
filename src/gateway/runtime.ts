import { Logger as HiveLogger, type LogWriter } from '@graphql-hive/logger';
import { createGatewayRuntime, type GatewayConfigBase, type GatewayRuntime } from '@graphql-hive/gateway-runtime';
import http from '@graphql-mesh/transport-http';
import type { GraphiQLOptions } from 'graphql-yoga';
import { requestIdField } from '../http/requestId.js';
import type { Logger } from '../log.js';
import type { SupergraphInput } from './lifecycle.js';
import { unifiedGraphHandlerFor, type QueryPlanner } from './planner.js';
import { defaultLimits, type SecurityLimits } from '../security/limits.js';
import { securityPlugins } from '../security/plugins.js';
import { withoutStacks } from '../security/redact.js';
import { skipRuntimeBodyLimit } from './runtimeBodyLimit.js';
import { sharedUpstreamDeadline, type DeadlineScope } from './upstreamDeadline.js';
import { useUpstreamErrors } from './upstreamErrors.js';

export interface RuntimeOptions {
  /**
   * The supergraph SDL text, or a function the runtime calls when it (re)loads its schema (a swap:
   * src/gateway/lifecycle.ts). It is never polled by the runtime: Tollgate decides when.
   */
  readonly supergraph: SupergraphInput;
  readonly development: boolean;
  readonly log: Logger;
  /** Runtime plugins (envelop/Yoga/gateway) added by other modules: security limits, metrics. */
  readonly plugins?: GatewayConfigBase<Record<string, unknown>>['plugins'];
  /**
   * Operation limits, batching, introspection, suggestions and the upstream timeout
   * (`Config.security`). Unset: the production defaults (`defaultLimits`).
   */
  readonly security?: SecurityLimits;
  /** GraphiQL in development: its options and the page renderer (default: the runtime's CDN page). */
  readonly graphiql?: {
    readonly options?: GraphiQLOptions;
    readonly render?: (options?: GraphiQLOptions) => string | Promise<string>;
  };
  /** The query planner; default the runtime's JavaScript one. */
  readonly queryPlanner?: QueryPlanner;
  /**
   * Which calls share a deadline (`UPSTREAM_TIMEOUT_MS`, src/gateway/upstreamDeadline.ts): those
   * of one short slot in the whole process (`process`, Node), or in one request only (`request`,
   * the default, the only one workerd allows).
   */
  readonly upstreamDeadline?: DeadlineScope;
}

/**
 * Creates The Guild's gateway runtime for one supergraph. CORS, rate limiting and the error
 * shape are Tollgate's, so the runtime's own CORS is off; its request ids, health/readiness
 * endpoints, error masking and GraphQL-over-HTTP status codes are kept. The security limits are
 * the runtime's own option (batching) and plugins (src/security/plugins.ts); the upstream timeout is
 * src/gateway/upstreamDeadline.ts.
 * The body limit is Tollgate's alone (`MAX_BODY_BYTES`): the runtime's own is switched off.
 * Failed subgraph calls get codes of their own instead of being masked (src/gateway/upstreamErrors.ts).
 */
export function createRuntime(options: RuntimeOptions): GatewayRuntime {
  const security = options.security ?? defaultLimits;
  const limits = securityPlugins(security, { development: options.development });
  const upstreamErrors = useUpstreamErrors({ development: options.development, log: options.log });
  const extra = options.plugins;
  const deadline = sharedUpstreamDeadline(security.upstreamTimeoutMs, options.upstreamDeadline ?? 'request');
  // MAX_BODY_BYTES is enforced before the runtime (src/security/body.ts): its own count goes.
  const bodyLimit = skipRuntimeBodyLimit(() =>
    options.log.warn(
      "the runtime's own request body limit could not be switched off; bodies are read through an extra stream (MAX_BODY_BYTES still applies)",
    ),
  );
  const supergraph = options.supergraph;
  return createGatewayRuntime({
    // A function is handed over as an async one. When its first load completes synchronously the
    // runtime keeps that first graph for good (the pending initial load it holds is left set to
    // it), and a superseded graph keeps the next one alive (the runtime's reload error keeps its
    // stack, whose frames hold the new graph): one graph kept would keep every later one.
    supergraph: typeof supergraph === 'function' ? async () => supergraph() : supergraph,
    // A swapped supergraph: operations in flight finish on the version they started with, which
    // is disposed after them (or after this long, aborting what is left).
    gracefulSchemaReload: { drainTimeout: Math.max(30_000, 2 * security.upstreamTimeoutMs) },
    transports: { http },
    logging: new HiveLogger({ level: hiveLevel(options.log), writers: [logWriter(options.log, options.development)] }),
    cors: false,
    landingPage: false,
    graphiql: options.development ? (options.graphiql?.options ?? true) : false,
    ...(options.development && options.graphiql?.render ? { renderGraphiQL: options.graphiql.render } : {}),
    graphqlEndpoint: '/graphql',
    // The lifecycle's request id (a request's own sane `X-Request-Id`, else a new UUID), handed
    // over in the server context; the runtime puts it on its log lines and subgraph calls.
    requestId: { generateRequestId: runtimeRequestId },
    healthCheckEndpoint: '/healthcheck',
    readinessCheckEndpoint: '/readiness',
    // The runtime adds `originalError` to masked errors when NODE_ENV says development; here
    // ENVIRONMENT decides, so never in production.
    maskedErrors: options.development ? true : { isDev: false },
    batching: security.batchLimit > 0 ? { limit: security.batchLimit } : false,
    unifiedGraphHandler: unifiedGraphHandlerFor(options.queryPlanner),
    plugins: (context) => [bodyLimit, deadline, upstreamErrors, ...limits, ...(extra ? extra(context) : [])],
  });
}

/** The request id the lifecycle put in the server context; a new UUID for a request handled without the lifecycle. */
function runtimeRequestId({ context }: { context?: unknown }): string {
  const given = (context as Record<string, unknown> | undefined)?.[requestIdField];
  return typeof given === 'string' ? given : crypto.randomUUID();
}

function hiveLevel(log: Logger): 'debug' | 'info' | 'warn' | 'error' {
  if (log.enabled('debug')) return 'debug';
  if (log.enabled('info')) return 'info';
  return log.enabled('warn') ? 'warn' : 'error';
}

/**
 * Routes the runtime's logs into Tollgate's JSON lines, marked as the runtime's; in production
 * without stack traces (the runtime logs unexpected errors with theirs).
 */
function logWriter(log: Logger, development: boolean): LogWriter {
  return {
    write(level, attrs, msg) {
      const safe = development ? attrs : withoutStacks(attrs);
      const fields = safe && !Array.isArray(safe) ? { component: 'runtime', ...safe } : { component: 'runtime', attrs: safe };
      // Unexpected errors come without a message (the error is the attributes): never an empty one.
      const text = msg || `runtime ${level}`;
      if (level === 'trace' || level === 'debug') log.debug(text, fields);
      else log[level](text, fields);
    },
  };
}
