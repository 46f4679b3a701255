/**
 * The demo subgraphs answered inside the gateway's own isolate, with no network: a runtime
 * plugin answers every subgraph fetch to a demo URL (`https://<name>.demo.tollgate.invalid/graphql`,
 * a reserved name that never resolves) with that subgraph's schema, served by graphql-yoga's
 * fetch handler. The Worker's embedded default, so `wrangler deploy` with no configuration
 * serves a graph that answers.
 */
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { demoResolvers, demoSubgraphDefinitions, type DemoName } from './schema.js';

/** The reserved host suffix of the in-isolate demo subgraphs (RFC 2606: `.invalid` never resolves). */
export const inIsolateDemoHostSuffix = '.demo.tollgate.invalid';

/** The URL a supergraph names for the in-isolate demo subgraph `name`. */
export function inIsolateDemoUrl(name: string): string {
  return `https://${name}${inIsolateDemoHostSuffix}/graphql`;
}

type FetchHandler = (request: Request) => Response | Promise<Response>;

/** One fetch handler per demo subgraph, keyed by the host of its in-isolate URL; built once. */
function demoHandlers(): Map<string, FetchHandler> {
  const handlers = new Map<string, FetchHandler>();
  for (const { name, typeDefs } of demoSubgraphDefinitions) {
    const schema = buildSubgraphSchema({ typeDefs: parse(typeDefs), resolvers: demoResolvers[name as DemoName] });
    const yoga = createYoga({
      schema,
      graphqlEndpoint: '/graphql',
      logging: false,
      landingPage: false,
      graphiql: false,
      maskedErrors: false,
    });
    handlers.set(new URL(inIsolateDemoUrl(name)).host, (request) => yoga.fetch(request));
  }
  return handlers;
}

/**
 * A runtime plugin that answers fetches to the in-isolate demo URLs itself; every other fetch
 * goes out as usual.
 *
 * @example createRuntime({ supergraph: inIsolateDemoSupergraph, plugins: () => [useInIsolateDemoSubgraphs()] })
 */
export function useInIsolateDemoSubgraphs(): GatewayPlugin {
  let handlers: Map<string, FetchHandler> | undefined;
  return {
    onFetch({ url, options, endResponse }) {
      if (!url.includes(inIsolateDemoHostSuffix)) return;
      const handler = (handlers ??= demoHandlers()).get(new URL(url).host);
      if (!handler) return;
      const { method, headers, body, signal } = options;
      endResponse(
        handler(
          new Request(url, { method, headers: headers as HeadersInit, body: body as BodyInit | null | undefined, signal: signal ?? null }),
        ),
      );
    },
  };
}
