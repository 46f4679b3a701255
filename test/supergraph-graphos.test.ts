import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { describe, test } from 'node:test';
import { createSchema, createYoga } from 'graphql-yoga';
import { supergraphVersion } from '../src/supergraph/version.js';
import { runGatewayExpectingFailure, startGatewayProcess } from './support/process.js';
import { askColor, readiness, listenLoopback, twoColorGraphsForFile, waitFor } from './support/supergraphs.js';

/**
 * A stand-in for Apollo GraphOS Uplink: its `routerConfig` query and the `RouterConfigResponse`
 * union as Uplink's schema declares them (so the gateway's query is validated against that
 * shape), answering `FetchError` for a wrong key or an unknown graph ref, `Unchanged` while
 * `ifAfterId` is the current id, else the supergraph with a new id.
 */
async function startUplink(apiKey: string, graphRef: string, initial: string) {
  let current = { id: 'v1', sdl: initial };
  const calls: { ref: string; ifAfterId: string | null; answer: string }[] = [];
  const schema = createSchema({
    typeDefs: /* GraphQL */ `
      enum FetchErrorCode { AUTHENTICATION_FAILED ACCESS_DENIED UNKNOWN_REF RETRY_LATER NOT_IMPLEMENTED_ON_THIS_INSTANCE }
      enum MessageLevel { ERROR WARN INFO }
      type Message { level: MessageLevel! body: String! }
      type RouterConfigResult { id: ID! supergraphSDL: String! messages: [Message!]! minDelaySeconds: Float! }
      type Unchanged { id: ID! minDelaySeconds: Float! }
      type FetchError { code: FetchErrorCode! message: String! minDelaySeconds: Float! }
      union RouterConfigResponse = RouterConfigResult | Unchanged | FetchError
      type Query { routerConfig(ref: String!, apiKey: String!, ifAfterId: ID): RouterConfigResponse! }
    `,
    resolvers: {
      RouterConfigResponse: { __resolveType: (value: { __typename: string }) => value.__typename },
      Query: {
        routerConfig: (_: unknown, args: { ref: string; apiKey: string; ifAfterId?: string | null }) => {
          const answer = ((): Record<string, unknown> => {
            if (args.apiKey !== apiKey) return { __typename: 'FetchError', code: 'AUTHENTICATION_FAILED', message: 'invalid API key', minDelaySeconds: 60 };
            if (args.ref !== graphRef) return { __typename: 'FetchError', code: 'UNKNOWN_REF', message: `unknown ref "${args.ref}"`, minDelaySeconds: 60 };
            if (args.ifAfterId === current.id) return { __typename: 'Unchanged', id: current.id, minDelaySeconds: 1 };
            return { __typename: 'RouterConfigResult', id: current.id, supergraphSDL: current.sdl, messages: [], minDelaySeconds: 1 };
          })();
          calls.push({ ref: args.ref, ifAfterId: args.ifAfterId ?? null, answer: String(answer['__typename']) });
          return answer;
        },
      },
    },
  });
  const server: Server = createServer(createYoga({ schema: schema as never, graphqlEndpoint: '/', logging: false, graphiql: false, landingPage: false }));
  const { origin, close } = await listenLoopback(server);
  let version = 1;
  return {
    url: `${origin}/`,
    calls,
    publish: (sdl: string) => void (current = { id: `v${++version}`, sdl }),
    close,
  };
}

const colorGraphs = twoColorGraphsForFile();

describe('Apollo GraphOS as the supergraph source (Node)', () => {
  test('the SupergraphSdl query with ifAfterId: Unchanged reloads nothing, a new id is swapped in; the key is not logged', async () => {
    const graphs = colorGraphs();
    const uplink = await startUplink('service:graph:secret-key', 'my-graph@current', graphs.a);
    const gateway = await startGatewayProcess({
      APOLLO_KEY: 'service:graph:secret-key',
      APOLLO_GRAPH_REF: 'my-graph@current',
      APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT: uplink.url,
      SUPERGRAPH_POLL_SECONDS: '1',
      RATE_LIMIT_ENABLED: 'false',
    });
    try {
      assert.deepEqual(await askColor(gateway.url), { status: 200, color: 'a' });
      await waitFor(() => uplink.calls.length >= 2, 10_000);
      assert.deepEqual(uplink.calls.slice(0, 2), [
        { ref: 'my-graph@current', ifAfterId: null, answer: 'RouterConfigResult' },
        { ref: 'my-graph@current', ifAfterId: 'v1', answer: 'Unchanged' },
      ]);
      uplink.publish(graphs.b);
      await waitFor(async () => (await askColor(gateway.url)).color === 'b', 10_000);
      const ready = await readiness(gateway.url);
      assert.equal(ready.body['supergraph']['version'], supergraphVersion(graphs.b));
      assert.equal(gateway.logs.filter((l) => l['msg'] === 'supergraph loaded').length, 2);
      assert.equal(gateway.logs.find((l) => l['msg'] === 'started')?.['supergraph'], `GraphOS my-graph@current (${uplink.url})`);
      assert.doesNotMatch(JSON.stringify(gateway.logs), /secret-key/);
    } finally {
      assert.equal(await gateway.stop(), 0);
      await uplink.close();
    }
  });

  test('a FetchError stops start-up with one tollgate: line giving its code and message', async () => {
    const graphs = colorGraphs();
    const uplink = await startUplink('right-key', 'my-graph@current', graphs.a);
    try {
      const env = { APOLLO_GRAPH_REF: 'my-graph@current', APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT: uplink.url };
      const wrongKey = await runGatewayExpectingFailure({ ...env, APOLLO_KEY: 'wrong-key' });
      assert.equal(wrongKey.code, 1);
      assert.deepEqual(
        wrongKey.stderr.split('\n').filter((l) => l.startsWith('tollgate:')),
        ['tollgate: Invalid APOLLO_GRAPH_REF="my-graph@current": expected a graph ref whose supergraph GraphOS Uplink serves with APOLLO_KEY (GraphOS Uplink: AUTHENTICATION_FAILED: invalid API key)'],
      );
      const unknownRef = await runGatewayExpectingFailure({ ...env, APOLLO_KEY: 'right-key', APOLLO_GRAPH_REF: 'other@current' });
      assert.match(unknownRef.stderr, /^tollgate: .*UNKNOWN_REF: unknown ref "other@current"\)$/m);
      const both = await runGatewayExpectingFailure({ ...env, APOLLO_KEY: 'right-key', SUPERGRAPH: '/tmp/x.graphql' });
      assert.match(both.stderr, /^tollgate: Invalid APOLLO_GRAPH_REF="": expected not to be set together with SUPERGRAPH: one supergraph source$/m);
    } finally {
      await uplink.close();
    }
  });
});
