/**
 * The benchmark's four federation subgraphs (accounts, inventory, products, reviews) with
 * graphql-yoga + @apollo/subgraph, all in one Node process on free loopback ports, composed with
 * Tollgate's `composeSupergraph`.
 *
 * Answers are memoised by request (accept header + body) after the first: the data is static,
 * so every gateway gets the same bytes, and the subgraph process costs little CPU on a machine
 * it shares with the gateway and the load generator. `memo: false` turns that off.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { composeSupergraph } from '../../src/compose/compose.js';
import { products, reviews, users, type Product } from './data.js';

export type SubgraphName = 'accounts' | 'inventory' | 'products' | 'reviews';

const link = (imports: string[]) =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: [${imports.map((i) => `"${i}"`).join(', ')}])`;

export const typeDefs: Record<SubgraphName, string> = {
  accounts: `${link(['@key', '@shareable'])}
type Query {
  me: User
  user(id: ID!): User
  users: [User]
}
type User @key(fields: "id") {
  id: ID!
  name: String
  username: String @shareable
  birthday: Int
}
`,
  inventory: `${link(['@key', '@external', '@requires'])}
type Product @key(fields: "upc") {
  upc: String!
  weight: Int @external
  price: Int @external
  inStock: Boolean
  shippingEstimate: Int @requires(fields: "price weight")
}
`,
  products: `${link(['@key'])}
type Query {
  topProducts(first: Int = 5): [Product]
}
type Product @key(fields: "upc") {
  upc: String!
  name: String
  price: Int
  weight: Int
}
`,
  reviews: `${link(['@key', '@external', '@provides'])}
type Review @key(fields: "id") {
  id: ID!
  body: String
  product: Product
  author: User @provides(fields: "username")
}
type User @key(fields: "id") {
  id: ID!
  username: String @external
  reviews: [Review]
}
type Product @key(fields: "upc") {
  upc: String!
  reviews: [Review]
}
`,
};

const byId = <T, K extends keyof T>(items: readonly T[], key: K) => new Map(items.map((item) => [item[key], item]));
const usersById = byId(users, 'id');
const productsByUpc = byId(products, 'upc');
const reviewsById = byId(reviews, 'id');
const outOfStock = new Set(['2', '7']);

const resolvers: Record<SubgraphName, GraphQLResolverMap<unknown>> = {
  accounts: {
    Query: {
      me: () => users[0],
      user: (_: unknown, { id }: { id: string }) => usersById.get(id) ?? null,
      users: () => users,
    },
    User: {
      __resolveReference: (ref: { id: string }) => usersById.get(ref.id) ?? null,
    },
  },
  inventory: {
    Product: {
      __resolveReference: (ref: { upc: string; price?: number; weight?: number }) => ({
        ...ref,
        inStock: !outOfStock.has(ref.upc),
      }),
      // Free above 1000, else half the weight: needs price and weight from the products subgraph.
      shippingEstimate: (ref: { price?: number; weight?: number }) =>
        ref.price === undefined || ref.weight === undefined ? null : ref.price > 1000 ? 0 : Math.round(ref.weight / 2),
    },
  },
  products: {
    Query: {
      topProducts: (_: unknown, { first }: { first?: number | null }) => products.slice(0, first ?? 5),
    },
    Product: {
      __resolveReference: (ref: { upc: string }): Product | null => productsByUpc.get(ref.upc) ?? null,
    },
  },
  reviews: {
    Review: {
      __resolveReference: (ref: { id: string }) => reviewsById.get(ref.id) ?? null,
      author: (review: { authorId: string }) => ({ id: review.authorId, username: usersById.get(review.authorId)?.username }),
      product: (review: { productUpc: string }) => ({ upc: review.productUpc }),
    },
    User: {
      reviews: (user: { id: string }) => reviews.filter((r) => r.authorId === user.id),
    },
    Product: {
      reviews: (product: { upc: string }) => reviews.filter((r) => r.productUpc === product.upc),
    },
  },
};

export interface WorkloadSubgraphs {
  readonly subgraphs: readonly { readonly name: SubgraphName; readonly url: string }[];
  readonly supergraphSdl: string;
  /** Requests each subgraph received since the last reset. */
  counts(): Record<SubgraphName, number>;
  resetCounts(): void;
  close(): Promise<void>;
}

const names: readonly SubgraphName[] = ['accounts', 'inventory', 'products', 'reviews'];

/** Starts the four subgraphs on 127.0.0.1, each on a free port, and composes their supergraph. */
export async function startWorkloadSubgraphs(options: { memo?: boolean } = {}): Promise<WorkloadSubgraphs> {
  const memo = options.memo ?? true;
  const counts = Object.fromEntries(names.map((n) => [n, 0])) as Record<SubgraphName, number>;
  const servers: Server[] = [];
  const subgraphs: { name: SubgraphName; url: string }[] = [];
  for (const name of names) {
    const schema = buildSubgraphSchema({ typeDefs: parse(typeDefs[name]), resolvers: resolvers[name] });
    const yoga = createYoga({ schema, graphqlEndpoint: '/graphql', logging: false, landingPage: false, graphiql: false });
    const cache = new Map<string, { status: number; contentType: string; body: Buffer }>();
    const server = createServer((req, res) => {
      counts[name]++;
      void answer(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      });
    });
    async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      const key = `${req.method} ${req.url} ${req.headers['accept'] ?? ''}\n${body.toString()}`;
      let hit = memo ? cache.get(key) : undefined;
      if (!hit) {
        const headers = new Headers();
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
        const response = await yoga.fetch(`http://127.0.0.1${req.url ?? '/'}`, {
          method: req.method ?? 'GET',
          headers,
          ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body }),
        });
        hit = {
          status: response.status,
          contentType: response.headers.get('content-type') ?? 'application/json',
          body: Buffer.from(await response.arrayBuffer()),
        };
        if (memo && response.ok) cache.set(key, hit);
      }
      res.writeHead(hit.status, { 'content-type': hit.contentType, 'content-length': hit.body.length });
      res.end(hit.body);
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    servers.push(server);
    subgraphs.push({ name, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql` });
  }
  const supergraphSdl = composeSupergraph(subgraphs.map(({ name, url }) => ({ name, url, typeDefs: typeDefs[name] })));
  return {
    subgraphs,
    supergraphSdl,
    counts: () => ({ ...counts }),
    resetCounts: () => {
      for (const name of names) counts[name] = 0;
    },
    close: () =>
      Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      ).then(() => undefined),
  };
}
