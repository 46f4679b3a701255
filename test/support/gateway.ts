import { parseConfig, type Config } from '../../src/config.js';
import { startDemoSubgraphs, type DemoSubgraphs } from '../../src/demo/subgraphs.js';
import { createLogger, type Logger } from '../../src/log.js';
import { startNodeServer, type NodeServer } from '../../src/node/server.js';
import { MemoryStore } from '../../src/ratelimit/memoryStore.js';
import type { RateLimitStore } from '../../src/ratelimit/store.js';
import { createTollgate, type Tollgate } from '../../src/tollgate.js';

/** One real demo deployment in this process: three subgraphs over HTTP, the gateway over HTTP. */
export interface TestGateway {
  readonly url: string;
  readonly config: Config;
  readonly tollgate: Tollgate;
  /** Every JSON log line the gateway wrote. */
  readonly logs: Record<string, unknown>[];
  close(): Promise<void>;
}

let shared: Promise<DemoSubgraphs> | undefined;
/** The demo subgraphs, started once per test file and closed by `closeDemo`. */
export function demoSubgraphs(): Promise<DemoSubgraphs> {
  return (shared ??= startDemoSubgraphs());
}
export async function closeDemo(): Promise<void> {
  const demo = await shared;
  shared = undefined;
  await demo?.close();
}

export async function startTestGateway(
  env: Record<string, string> = {},
  options: {
    store?: RateLimitStore;
    log?: Logger;
    /** The supergraph to serve; default the demo subgraphs' (started if need be). */
    supergraphSdl?: string;
  } = {},
): Promise<TestGateway> {
  const supergraphSdl = options.supergraphSdl ?? (await demoSubgraphs()).supergraphSdl;
  const config = parseConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env }, 'node');
  const logs: Record<string, unknown>[] = [];
  const log = options.log ?? createLogger(config.logLevel, (line) => logs.push(JSON.parse(line)));
  const tollgate = createTollgate(config, {
    supergraphSdl,
    store: options.store ?? new MemoryStore(),
    log,
  });
  const server: NodeServer = await startNodeServer({ handler: tollgate.handler, port: 0, host: '127.0.0.1', log });
  return {
    url: server.url,
    config,
    tollgate,
    logs,
    async close() {
      await server.close();
      await tollgate.close();
    },
  };
}

export const crossSubgraphQuery = '{ topProducts { upc name price reviews { body author { name username } } } }';

export function postQuery(url: string, query: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
}
