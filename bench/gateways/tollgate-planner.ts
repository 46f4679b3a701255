/**
 * Tollgate with a chosen query planner, wired as src/node/main.ts wires it (config, store,
 * gateway lifecycle, request lifecycle, Node server), for as long as `createRuntime` has no
 * planner option: once `QUERY_PLANNER` is in Tollgate's config the benchmark runs main.js instead.
 * Env: Tollgate's own, plus QUERY_PLANNER (js | rust).
 */
import { parseConfig } from '../../src/config.js';
import { createGatewayProvider } from '../../src/gateway/lifecycle.js';
import { createHandler } from '../../src/lifecycle/handle.js';
import { createLogger } from '../../src/log.js';
import { startNodeServer } from '../../src/node/server.js';
import { loadSupergraph } from '../../src/node/supergraph.js';
import { createStore } from '../../src/ratelimit/createStore.js';
import { benchRuntime, plannerFromEnv } from './benchRuntime.js';

const config = parseConfig(process.env, 'node');
const log = createLogger(config.logLevel);
const supergraphSdl = await loadSupergraph(config.supergraph!);
const planner = plannerFromEnv();
const store = createStore(
  { redisUrl: config.redisUrl, keyPrefix: config.redisKeyPrefix, timeoutMs: config.rateLimitTimeoutMs },
  { log },
);
const gateway = createGatewayProvider(config.gatewayLifecycle, () => benchRuntime(supergraphSdl, planner));
const handler = createHandler({ config, gateway, store, log });
const server = await startNodeServer({ handler, port: config.port, host: config.host, log });
const stop = (): void =>
  void server
    .close()
    .then(() => gateway.dispose())
    .then(() => store.close())
    .finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
