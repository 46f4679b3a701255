/**
 * The demo subgraphs (`schema.ts`) served by graphql-yoga over node:http: by `npm start` with no
 * SUPERGRAPH (free ports), by `npm run demo:subgraphs` for `supergraph.graphql` (ports 4101–4103),
 * and by the tests.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { composeSupergraph } from '../compose/compose.js';
import { demoPorts, demoResolvers, demoSubgraphDefinitions, type DemoName, type SubgraphDefinition } from './schema.js';

export { demoPorts, demoSubgraphDefinitions, type DemoName, type SubgraphDefinition };

export interface RunningSubgraph {
  name: string;
  url: string;
  typeDefs: string;
}

export interface DemoSubgraphs {
  subgraphs: RunningSubgraph[];
  /** Supergraph composed with each running subgraph's URL. */
  supergraphSdl: string;
  close(): Promise<void>;
}

// ---- servers --------------------------------------------------------------------------------

/** Builds the node:http server of one demo subgraph (not listening yet). */
function createSubgraphServer(name: DemoName, typeDefs: string): Server {
  const schema = buildSubgraphSchema({ typeDefs: parse(typeDefs), resolvers: demoResolvers[name] });
  const yoga = createYoga({
    schema,
    graphqlEndpoint: '/graphql',
    logging: false,
    landingPage: false,
    graphiql: false,
    // Demo subgraphs show their real error messages so tests can see them pass through.
    maskedErrors: false,
  });
  return createServer(yoga);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Starts the three demo subgraphs on 127.0.0.1; port 0 (default) = a free port each. */
export async function startDemoSubgraphs(
  options: { host?: string; ports?: Partial<Record<DemoName, number>> } = {},
): Promise<DemoSubgraphs> {
  const host = options.host ?? '127.0.0.1';
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const servers: Server[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(servers.map(closeServer));
  };
  try {
    const subgraphs: RunningSubgraph[] = [];
    for (const { name, typeDefs } of demoSubgraphDefinitions) {
      const server = createSubgraphServer(name as DemoName, typeDefs);
      servers.push(server);
      const port = await listen(server, options.ports?.[name as DemoName] ?? 0, host);
      subgraphs.push({ name, url: `http://${urlHost}:${port}/graphql`, typeDefs });
    }
    return { subgraphs, supergraphSdl: composeSupergraph(subgraphs), close };
  } catch (err) {
    await close();
    throw err;
  }
}
