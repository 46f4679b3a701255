// Tollgate's estimate beside the runtime's own demandControl on the same documents. They are
// different models (demandControl prices each subgraph request during execution; unannotated
// lists count ×1 with its default listSize 0; its mutation cost never applies), so this
// records the differences on queries that one subgraph answers alone rather than asserting
// equality; it asserts only that both priced every document. The table is printed as the
// test's diagnostics.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { createGatewayRuntime, type GatewayPlugin } from '@graphql-hive/gateway-runtime';
import http from '@graphql-mesh/transport-http';
import { createCostEstimator } from '../src/cost/estimator.js';
import { catalogResolvers, catalogTypeDefs, costSupergraph, reviewsResolvers, reviewsTypeDefs } from './support/costSubgraphs.js';

const urls = { catalog: 'https://catalog.cost.invalid/graphql', reviews: 'https://reviews.cost.invalid/graphql' };

/** Answers the two test subgraphs' URLs inside the process. */
function inProcessSubgraphs(): GatewayPlugin {
  const handlers = new Map(
    [
      [urls.catalog, catalogTypeDefs, catalogResolvers],
      [urls.reviews, reviewsTypeDefs, reviewsResolvers],
    ].map(([url, typeDefs, resolvers]) => {
      const schema = buildSubgraphSchema({ typeDefs: parse(typeDefs as string), resolvers: resolvers as never });
      const yoga = createYoga({ schema, logging: false, landingPage: false, graphiql: false, maskedErrors: false });
      return [new URL(url as string).host, yoga] as const;
    }),
  );
  return {
    onFetch({ url, options, endResponse }) {
      const yoga = handlers.get(new URL(url).host);
      if (!yoga) return;
      const { method, headers, body } = options;
      endResponse(yoga.fetch(new Request(url, { method, headers: headers as HeadersInit, body: body as BodyInit })) as Promise<Response>);
    },
  };
}

/** Single-subgraph documents: each rule of the model where demandControl can see it too. */
const documents: { name: string; query: string; variables?: Record<string, unknown> }[] = [
  { name: 'object, scalar', query: '{ book(id: 1) { id title } }' },
  { name: '@cost scalar and enum', query: '{ book(id: 1) { price rating } }' },
  { name: 'field @cost', query: '{ expensive }' },
  { name: 'argument @cost', query: '{ search(term: "x") { ... on Book { id } } }' },
  { name: 'input field @cost', query: '{ search(term: "x", filter: { exact: true }) { ... on Book { id } } }' },
  { name: 'slicing literal', query: '{ topBooks(first: 7) { id } }' },
  { name: 'slicing variable', query: 'query ($n: Int) { topBooks(first: $n) { id } }', variables: { n: 3 } },
  { name: 'slicing default', query: '{ book(id: 1) { related { id } } }' },
  { name: 'nested slicing', query: '{ topBooks(first: 10) { related(first: 10) { title } } }' },
  { name: 'assumedSize', query: '{ featured { id } }' },
  { name: 'no @listSize', query: '{ allBooks { id } }' },
  { name: 'sizedFields', query: '{ books(first: 20) { edges { id } total } }' },
  { name: 'interface', query: '{ node(id: 1) { id } }' },
  { name: 'interface, fragment', query: '{ node(id: 1) { id ... on Author { bio } } }' },
  { name: 'union', query: '{ search(term: "x", max: 2) { ... on Author { bio } ... on Book { price } } }' },
  { name: 'fragment', query: '{ book(id: 1) { ...F } } fragment F on Book { price authors { bio } }' },
  { name: '@skip', query: '{ book(id: 1) { price @skip(if: true) rating } }' },
  { name: 'mutation', query: 'mutation { addBook(title: "t") { id } }' },
  { name: 'first: 1', query: '{ topBooks(first: 1) { title price related(first: 1) { title } } }' },
  { name: 'first: 10', query: '{ topBooks(first: 10) { title price related(first: 10) { title } } }' },
  { name: 'first: 100', query: '{ topBooks(first: 100) { title price related(first: 100) { title } } }' },
];

describe("Tollgate's estimate beside the runtime's demandControl (single-subgraph queries)", () => {
  test('both price every document; the differences are listed', async (t) => {
    const supergraph = costSupergraph(urls);
    const estimator = createCostEstimator(supergraph);
    const runtime = createGatewayRuntime({
      supergraph,
      transports: { http },
      logging: false,
      demandControl: { includeExtensionMetadata: true },
      plugins: () => [inProcessSubgraphs()],
    });
    const rows: string[] = ['| document | Tollgate | demandControl |', '|---|---|---|'];
    try {
      for (const { name, query, variables } of documents) {
        const ours = estimator.estimate(parse(query), undefined, variables);
        assert.ok(ours.ok, `${name}: ${ours.ok ? '' : ours.message}`);
        const response = await runtime.fetch('http://gateway.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query, variables }),
        });
        const body = (await response.json()) as { errors?: unknown[]; extensions?: { cost?: { estimated?: number } } };
        assert.equal(body.errors, undefined, `${name}: ${JSON.stringify(body.errors)}`);
        const theirs = body.extensions?.cost?.estimated;
        assert.equal(typeof theirs, 'number', `${name}: demandControl reported ${JSON.stringify(body.extensions)}`);
        rows.push(`| ${name}: \`${query}\` | ${ours.cost} | ${theirs} |`);
      }
    } finally {
      await runtime.dispose();
    }
    for (const row of rows) t.diagnostic(row);
  });
});
