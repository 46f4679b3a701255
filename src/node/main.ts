#!/usr/bin/env node
import { ConfigError, parseConfig } from '../config.js';
import { startDemoSubgraphs, type DemoSubgraphs } from '../demo/subgraphs.js';
import { rustPlannerAvailable } from '../gateway/planner.js';
import { createLogger } from '../log.js';
import { createNodeObservability } from '../observability/node.js';
import { effectiveConfig } from '../observability/startup.js';
import { connectStore } from '../ratelimit/connectStore.js';
import { createTollgate } from '../tollgate.js';
import { withFileVariables } from './fileVariables.js';
import { ListenError, startNodeServer } from './server.js';
import { takeOverTerminationSignals } from './signals.js';
import { nodeSupergraphSource } from './supergraph.js';
import { supergraphLocation, type SupergraphLocation } from '../supergraph/location.js';
import { supergraphMetrics } from '../supergraph/metrics.js';

/** `npm start`: the gateway on Node, with the demo subgraphs when no SUPERGRAPH is configured. */
async function main(): Promise<void> {
  let config = parseConfig(withFileVariables(process.env), 'node');
  const log = createLogger(config.logLevel);

  if (config.queryPlanner === 'rust' && !(await rustPlannerAvailable())) {
    // Asked for by name: stop. The default: the JavaScript planner, which runs everywhere.
    if (process.env['QUERY_PLANNER']?.trim()) {
      throw new ConfigError(
        'QUERY_PLANNER',
        'rust',
        'js here: the Rust planner (@graphql-hive/router-runtime) does not load on this machine',
      );
    }
    log.warn('the Rust query planner (@graphql-hive/router-runtime) does not load here: using the JavaScript planner');
    config = { ...config, queryPlanner: 'js' };
  }
  let demo: DemoSubgraphs | undefined;
  const location = supergraphLocation(config);
  if (location === undefined) demo = await startDemoSubgraphs();
  const source = location === undefined ? undefined : nodeSupergraphSource(location, config.supergraphSource, log);

  const tollgate = createTollgate(config, {
    ...(source ? { supergraphSource: { read: (etag: string | undefined) => source.read(etag) } } : { supergraphSdl: demo?.supergraphSdl }),
    log,
    observability: (store) => createNodeObservability(config.observability, config, { log, store }),
  });
  const { store } = tollgate;
  const obs = tollgate.observability!;
  supergraphMetrics(obs.metrics.registry, () => tollgate.supergraph.state());
  let stopWatching = (): void => {};
  if (source && location !== undefined) {
    // The first load: without it there is nothing to serve, and start-up stops saying why.
    await tollgate.supergraph.refresh();
    const first = tollgate.supergraph.state();
    if (first.version === undefined) {
      await tollgate.close();
      const what = {
        'hive-cdn': 'a Hive CDN endpoint serving a supergraph',
        graphos: 'a graph ref whose supergraph GraphOS Uplink serves with APOLLO_KEY',
        url: 'a readable supergraph file path or http(s) URL',
        file: 'a readable supergraph file path or http(s) URL',
      }[location.kind];
      throw new ConfigError(location.variable, location.value, `${what} (${first.lastUpdate?.error ?? 'not loaded'})`);
    }
    stopWatching = source.watch(() => void tollgate.supergraph.refresh());
  }
  // Connected (Cluster slots known, script loaded) before listening: a burst right after start-up
  // is decided by the shared store like any other, not let through while the client connects.
  if (config.rateLimitEnabled) await connectStore(store, config.rateLimitStartupWaitMs, log);
  const server = await startNodeServer({ handler: tollgate.handler, port: config.port, host: config.host, log });
  await obs.listen();

  log.info('started', {
    url: `${server.url}/graphql`,
    node: process.version,
    environment: config.environment,
    gatewayLifecycle: config.gatewayLifecycle,
    store: store.kind,
    rateLimit: config.rateLimitEnabled ? { ...config.policy } : 'off',
    supergraph: describeLocation(location),
    supergraphVersion: tollgate.supergraph.state().version,
    supergraphSource: source ? { kind: source.kind, pollSeconds: config.supergraphSource.pollMs / 1000 } : undefined,
    subgraphs: demo?.subgraphs.map(({ name, url }) => ({ name, url })),
    metrics: obs.describe(server.url),
    config: effectiveConfig(config),
  });
  console.error(startBanner({ url: server.url, development: config.environment === 'development', demo: demo !== undefined }));

  takeOverTerminationSignals();
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info('shutdown', { signal });
    stopWatching();
    await server.close();
    await obs.close();
    await tollgate.close();
    await demo?.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** The supergraph's source for the start-up line (never a key). */
function describeLocation(location: SupergraphLocation | undefined): string {
  if (location === undefined) return 'demo';
  if (location.kind === 'hive-cdn') return `Hive CDN ${location.url}`;
  if (location.kind === 'graphos') return `GraphOS ${location.value} (${location.url})`;
  return location.value;
}

/** The lines a person reads at start: where, which mode and how to switch, what to try. */
function startBanner({ url, development, demo }: { url: string; development: boolean; demo: boolean }): string {
  const lines = [
    '',
    `Tollgate on Node ${process.version}: ${url}/graphql`,
    development
      ? 'Mode: development (GraphiQL at that URL in a browser, stack traces in errors, no rate limiting). ENVIRONMENT=production for production.'
      : 'Mode: production (rate limited, no GraphiQL, no stack traces). ENVIRONMENT=development for GraphiQL and stack traces.',
  ];
  if (demo) {
    lines.push(
      'Serving the demo supergraph (SUPERGRAPH=path-or-URL for your own). Try:',
      `  curl -s ${url}/graphql -H 'content-type: application/json' \\`,
      `    -d '{"query":"{ topProducts { name price reviews { body author { name } } } }"}'`,
    );
  }
  return `${lines.join('\n')}\n`;
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof ListenError) {
    console.error(`tollgate: ${error.message}`);
  } else {
    console.error('tollgate: failed to start:', error);
  }
  process.exit(1);
});
