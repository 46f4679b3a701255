/**
 * The three demo federation subgraphs (products, reviews, users): their SDL, static data and
 * resolvers. Served over node:http by `subgraphs.ts` (Node, tests) and inside the Worker's own
 * isolate by `inIsolate.ts`; no I/O here.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';

export interface SubgraphDefinition {
  name: string;
  /** SDL text of the subgraph. */
  typeDefs: string;
}

export type DemoName = 'products' | 'reviews' | 'users';

/** Fixed ports of the demo subgraphs in `serve.ts` (`npm run demo:subgraphs`) and `supergraph.graphql`. */
export const demoPorts: Record<DemoName, number> = { products: 4101, reviews: 4102, users: 4103 };

const link =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@external", "@requires", "@provides"])';

// ---- static data ----------------------------------------------------------------------------

interface User {
  id: string;
  name: string;
  username: string;
}
interface Product {
  upc: string;
  name: string;
  price: number;
  weight: number;
}
interface Review {
  id: string;
  body: string;
  authorId: string;
  productUpc: string;
}

const users: User[] = [
  { id: '1', name: 'Ada Lovelace', username: '@ada' },
  { id: '2', name: 'Alan Turing', username: '@complete' },
  { id: '3', name: 'Grace Hopper', username: '@grace' },
  { id: '4', name: 'Edsger Dijkstra', username: '@ewd' },
];

const products: Product[] = [
  { upc: '1', name: 'Table', price: 899, weight: 100 },
  { upc: '2', name: 'Couch', price: 1299, weight: 1000 },
  { upc: '3', name: 'Chair', price: 54, weight: 50 },
  { upc: '4', name: 'Lamp', price: 35, weight: 5 },
  { upc: '5', name: 'Rug', price: 120, weight: 20 },
];

const reviews: Review[] = [
  { id: '1', body: 'Love it!', authorId: '1', productUpc: '1' },
  { id: '2', body: 'Too expensive.', authorId: '1', productUpc: '2' },
  { id: '3', body: 'Could be better.', authorId: '2', productUpc: '3' },
  { id: '4', body: 'Prefer something else.', authorId: '2', productUpc: '1' },
  { id: '5', body: 'Sturdy and simple.', authorId: '3', productUpc: '3' },
  { id: '6', body: 'Bright enough.', authorId: '3', productUpc: '4' },
  { id: '7', body: 'Goes with everything.', authorId: '4', productUpc: '5' },
  { id: '8', body: 'Heavier than expected.', authorId: '4', productUpc: '2' },
];

// ---- subgraph definitions -------------------------------------------------------------------

const productsTypeDefs = `${link}

type Product @key(fields: "upc") {
  upc: String!
  name: String!
  price: Int!
  weight: Int!
}

type Query {
  topProducts(first: Int = 5): [Product!]!
  product(upc: String!): Product
  "Always fails with \\"boom from products\\"; lets tests check that subgraph errors pass through."
  boom: String
}
`;

const usersTypeDefs = `${link}

type User @key(fields: "id") {
  id: ID!
  name: String!
  username: String!
}

type Query {
  me: User
  user(id: ID!): User
  users: [User!]!
}
`;

const reviewsTypeDefs = `${link}

type Review @key(fields: "id") {
  id: ID!
  body: String!
  author: User!
  product: Product!
}

type User @key(fields: "id") {
  id: ID!
  reviews: [Review!]!
}

type Product @key(fields: "upc") {
  upc: String!
  reviews: [Review!]!
}

type Query {
  reviews: [Review!]!
}
`;

/** The demo subgraphs' SDL, in composition order. */
export const demoSubgraphDefinitions: SubgraphDefinition[] = [
  { name: 'products', typeDefs: productsTypeDefs },
  { name: 'reviews', typeDefs: reviewsTypeDefs },
  { name: 'users', typeDefs: usersTypeDefs },
];

export const demoResolvers: Record<DemoName, GraphQLResolverMap<unknown>> = {
  products: {
    Query: {
      topProducts: (_: unknown, { first }: { first?: number | null }) => products.slice(0, first ?? 5),
      product: (_: unknown, { upc }: { upc: string }) => products.find((p) => p.upc === upc) ?? null,
      boom: () => {
        throw new Error('boom from products');
      },
    },
    Product: {
      __resolveReference: (ref: { upc: string }) => products.find((p) => p.upc === ref.upc) ?? null,
    },
  },
  users: {
    Query: {
      me: () => users[0] ?? null,
      user: (_: unknown, { id }: { id: string }) => users.find((u) => u.id === id) ?? null,
      users: () => users,
    },
    User: {
      __resolveReference: (ref: { id: string }) => users.find((u) => u.id === ref.id) ?? null,
    },
  },
  reviews: {
    Query: {
      reviews: () => reviews,
    },
    Review: {
      __resolveReference: (ref: { id: string }) => reviews.find((r) => r.id === ref.id) ?? null,
      author: (review: Review) => ({ id: review.authorId }),
      product: (review: Review) => ({ upc: review.productUpc }),
    },
    User: {
      reviews: (user: { id: string }) => reviews.filter((r) => r.authorId === user.id),
    },
    Product: {
      reviews: (product: { upc: string }) => reviews.filter((r) => r.productUpc === product.upc),
    },
  },
};
