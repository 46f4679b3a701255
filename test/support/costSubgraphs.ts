/**
 * Test subgraphs carrying the IBM cost directives (`@cost`, `@listSize`), which the demo has
 * not: a catalog (every rule of the cost model has a field here) and a reviews subgraph that
 * extends its `Book`. Composed with The Guild's composition, as `npm run compose` does.
 */
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

/** The two subgraphs composed; URLs are never called by the estimator's tests. */
export function costSupergraph(
  urls: { catalog: string; reviews: string } = { catalog: 'http://catalog.invalid/graphql', reviews: 'http://reviews.invalid/graphql' },
): string {
  return composeSupergraph([
    { name: 'catalog', url: urls.catalog, typeDefs: catalogTypeDefs },
    { name: 'reviews', url: urls.reviews, typeDefs: reviewsTypeDefs },
  ]);
}
