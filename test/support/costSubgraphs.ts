/**
 * Test subgraphs carrying the IBM cost directives (`@cost`, `@listSize`), which the demo has
 * not: a catalog (every rule of the cost model has a field here) and a reviews subgraph that
 * extends its `Book`. Composed with The Guild's composition, as `npm run compose` does; served
 * over HTTP by `startCostSubgraphs`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { composeSupergraph } from '../../src/compose/compose.js';

export const catalogTypeDefs = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@cost", "@listSize"])

  type Query {
    book(id: ID!): Book
    books(first: Int = 5, after: String): BookConnection @listSize(slicingArguments: ["first"], sizedFields: ["edges"])
    topBooks(first: Int): [Book!]! @listSize(slicingArguments: ["first"], requireOneSlicingArgument: false)
    featured: [Book!]! @listSize(assumedSize: 3)
    allBooks: [Book!]!
    pages(first: Int, last: Int): [Int] @listSize(slicingArguments: ["first", "last"])
    search(term: String! @cost(weight: 3), max: Int = 4, filter: SearchFilter): [SearchResult!]! @listSize(slicingArguments: ["max"])
    node(id: ID!): Node
    nodes(first: Int!): [Node!]! @listSize(slicingArguments: ["first"])
    expensive: Int @cost(weight: 50)
  }

  type Mutation {
    addBook(title: String!): Book @cost(weight: 4)
  }

  input SearchFilter {
    language: String
    exact: Boolean @cost(weight: 6)
  }

  interface Node {
    id: ID!
  }

  union SearchResult = Book | Author

  type BookConnection {
    edges: [Book!]!
    total: Int
  }

  type Book implements Node @key(fields: "id") @cost(weight: 5) {
    id: ID!
    title: String
    price: Money
    rating: Rating
    authors: [Author!]! @listSize(assumedSize: 2)
    related(first: Int = 3): [Book!]! @listSize(slicingArguments: ["first"])
  }

  type Author implements Node @key(fields: "id") {
    id: ID!
    name: String
    bio: String @cost(weight: 7)
    books(first: Int!): [Book!]! @listSize(slicingArguments: ["first"])
    grid: [[Int]] @listSize(assumedSize: 3)
  }

  type Magazine implements Node {
    id: ID!
    issue: Int
  }

  scalar Money @cost(weight: 2)

  enum Rating @cost(weight: 1) {
    GOOD
    BAD
  }
`;

export const reviewsTypeDefs = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@cost", "@listSize"])

  type Book @key(fields: "id") {
    id: ID!
    reviews(first: Int = 2): [Review!]! @listSize(slicingArguments: ["first"])
    reviewCount: Int @cost(weight: 3)
  }

  type Review {
    id: ID!
    body: String
  }
`;

/** The catalog holds 25 books: a list asked for more returns 25, fewer than its estimate assumed. */
const catalogSize = 25;
const book = (id: number) => ({ __typename: 'Book', id: String(id), title: `Book ${id}`, price: 10, rating: 'GOOD' });
const books = (n: number | undefined, fallback: number) =>
  Array.from({ length: Math.min(n ?? fallback, catalogSize) }, (_, i) => book(i + 1));
export const catalogResolvers = {
  Query: {
    book: (_: unknown, { id }: { id: string }) => book(Number(id)),
    books: (_: unknown, { first }: { first?: number }) => ({ edges: books(first, 5), total: first ?? 5 }),
    topBooks: (_: unknown, { first }: { first?: number }) => books(first, 10),
    featured: () => books(3, 3),
    allBooks: () => books(10, 10),
    pages: (_: unknown, { first, last }: { first?: number; last?: number }) => Array.from({ length: first ?? last ?? 0 }, (_, i) => i),
    search: (_: unknown, { max }: { max?: number }) => books(max, 4),
    node: (_: unknown, { id }: { id: string }) => book(Number(id)),
    nodes: (_: unknown, { first }: { first: number }) => books(first, 1),
    expensive: () => 1,
  },
  Mutation: { addBook: (_: unknown, { title }: { title: string }) => ({ ...book(99), title }) },
  Book: {
    authors: () => [{ id: 'a1', name: 'A', bio: 'b', __typename: 'Author' }],
    related: (_: unknown, { first }: { first?: number }) => books(first, 3),
  },
  Author: { books: (_: unknown, { first }: { first: number }) => books(first, 1), grid: () => [[1]] },
  Node: { __resolveType: (o: { __typename: string }) => o.__typename },
  SearchResult: { __resolveType: (o: { __typename: string }) => o.__typename },
};
export const reviewsResolvers = {
  Book: {
    __resolveReference: (ref: { id: string }) => ref,
    reviews: (_: unknown, { first }: { first?: number }) => Array.from({ length: first ?? 2 }, (_, i) => ({ id: String(i), body: 'ok' })),
    reviewCount: () => 2,
  },
};

/** The two subgraphs composed; URLs are never called by the estimator's tests. */
export function costSupergraph(
  urls: { catalog: string; reviews: string } = { catalog: 'http://catalog.invalid/graphql', reviews: 'http://reviews.invalid/graphql' },
): string {
  return composeSupergraph([
    { name: 'catalog', url: urls.catalog, typeDefs: catalogTypeDefs },
    { name: 'reviews', url: urls.reviews, typeDefs: reviewsTypeDefs },
  ]);
}

/** The two cost subgraphs over HTTP on loopback, and their supergraph. */
export async function startCostSubgraphs(): Promise<{ supergraph: string; close(): Promise<void> }> {
  const servers: Server[] = [];
  const serve = async (typeDefs: string, resolvers: unknown): Promise<string> => {
    const schema = buildSubgraphSchema({ typeDefs: parse(typeDefs), resolvers: resolvers as never });
    const server = createServer(createYoga({ schema, logging: false, graphiql: false, landingPage: false, maskedErrors: false }));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  };
  const [catalog, reviews] = await Promise.all([serve(catalogTypeDefs, catalogResolvers), serve(reviewsTypeDefs, reviewsResolvers)]);
  return {
    supergraph: costSupergraph({ catalog, reviews }),
    close: async () => {
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    },
  };
}
