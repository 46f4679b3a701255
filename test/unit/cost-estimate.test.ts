// The cost estimate: each rule of the model on a supergraph composed from test subgraphs that
// carry @cost and @listSize, the names federation gives the directives, and the refusals.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'graphql';
import { composeSupergraph } from '../../src/compose/compose.js';
import { createCostEstimator, type CostEstimator } from '../../src/cost/estimator.js';
import type { CostEstimate } from '../../src/cost/estimate.js';
import { costSupergraph } from '../support/costSubgraphs.js';

const supergraph = costSupergraph();
const estimator = createCostEstimator(supergraph);

function price(query: string, variables?: Record<string, unknown>, operationName?: string, using: CostEstimator = estimator): CostEstimate {
  return using.estimate(parse(query), operationName, variables);
}

function cost(query: string, variables?: Record<string, unknown>, using?: CostEstimator): number {
  const result = price(query, variables, undefined, using);
  assert.ok(result.ok, `refused: ${result.ok ? '' : result.message}`);
  return result.cost;
}

function refusal(query: string, variables?: Record<string, unknown>, operationName?: string): string {
  const result = price(query, variables, operationName);
  assert.equal(result.ok, false, `priced at ${result.ok ? result.cost : ''}`);
  return result.ok ? '' : result.reason;
}

describe('the cost model', () => {
  test('a composite type costs 1 or its @cost weight, a leaf 0 or its scalar/enum weight', () => {
    assert.equal(cost('{ book(id: 1) { id title } }'), 5); // Book @cost(weight: 5)
    assert.equal(cost('{ book(id: 1) { price } }'), 5 + 2); // scalar Money @cost(weight: 2)
    assert.equal(cost('{ book(id: 1) { rating } }'), 5 + 1); // enum Rating @cost(weight: 1)
    assert.equal(cost('{ books(first: 0) { total } }'), 1); // BookConnection: no weight
  });

  test("a field's @cost weight is added to its type's", () => {
    assert.equal(cost('{ expensive }'), 50); // Int 0 + field 50
    assert.equal(cost('mutation { added: addBook(title: "t") { id } }'), 10 + 4 + 5); // Book 5 + field 4, +10 a mutation
    assert.equal(cost('{ book(id: 1) { authors { bio } } }'), 5 + 2 * (1 + 7));
  });

  test('an argument given costs its weight; an input object field given in the value, its weight', () => {
    // search: term @cost(3), max defaults to 4, the union's dearest member is Book (5)
    assert.equal(cost('{ search(term: "x") { __typename } }'), 3 + 4 * 5);
    assert.equal(cost('{ search(term: "x", filter: { exact: true }) { __typename } }'), 3 + 6 + 4 * 5);
    assert.equal(cost('{ search(term: "x", filter: { language: "en" }) { __typename } }'), 3 + 4 * 5);
    const withVariable = 'query ($f: SearchFilter) { search(term: "x", filter: $f) { __typename } }';
    assert.equal(cost(withVariable, { f: { exact: false } }), 3 + 6 + 4 * 5);
    assert.equal(cost(withVariable, { f: { language: 'en' } }), 3 + 4 * 5);
    assert.equal(cost(withVariable, {}), 3 + 4 * 5);
  });

  test('a list multiplies by its slicing argument: literal, variable, default', () => {
    assert.equal(cost('{ topBooks(first: 7) { id } }'), 7 * 5);
    assert.equal(cost('query ($n: Int) { topBooks(first: $n) { id } }', { n: 3 }), 3 * 5);
    assert.equal(cost('query ($n: Int = 6) { topBooks(first: $n) { id } }', {}), 6 * 5);
    assert.equal(cost('{ book(id: 1) { related { id } } }'), 5 + 3 * 5); // related(first: Int = 3)
    assert.equal(cost('{ topBooks(first: 10) { related(first: 10) { title } } }'), 10 * (5 + 10 * 5));
    assert.equal(cost('{ pages(last: 4) }'), 0); // a list of leaves is free, whatever its size
  });

  test('else its assumedSize, else the default list size (10, or as configured)', () => {
    assert.equal(cost('{ featured { id } }'), 3 * 5); // @listSize(assumedSize: 3)
    assert.equal(cost('{ allBooks { id } }'), 10 * 5);
    assert.equal(cost('{ topBooks { id } }'), 10 * 5); // requireOneSlicingArgument: false, none given
    assert.equal(cost('query ($n: Int) { topBooks(first: $n) { id } }', { n: null }), 10 * 5); // null: not given
    const small = createCostEstimator(supergraph, { defaultListSize: 4 });
    assert.equal(cost('{ allBooks { id } }', undefined, small), 4 * 5);
  });

  test('sizedFields apply the slicing argument to the named child fields', () => {
    assert.equal(cost('{ books { edges { id } total } }'), 1 + 5 * 5); // first: Int = 5
    assert.equal(cost('{ books(first: 100) { edges { id } } }'), 1 + 100 * 5);
    assert.equal(cost('query ($n: Int) { books(first: $n) { edges { id } } }', { n: 10 }), 1 + 10 * 5);
    // through a fragment and an inline fragment, the size still reaches the child
    assert.equal(cost('{ books(first: 20) { ...C } } fragment C on BookConnection { ... { edges { id } } }'), 1 + 20 * 5);
    // not below the child: related keeps its own size
    assert.equal(cost('{ books(first: 2) { edges { related { id } } } }'), 1 + 2 * (5 + 3 * 5));
  });

  test('interfaces and unions cost their most expensive possible type', () => {
    assert.equal(cost('{ node(id: 1) { id } }'), 5); // Book 5, Author 1, Magazine 1
    assert.equal(cost('{ node(id: 1) { id ... on Author { bio } } }'), 1 + 7); // Author 8 > Book 5
    assert.equal(cost('{ node(id: 1) { ... on Book { price } ... on Magazine { issue } } }'), 5 + 2);
    assert.equal(cost('{ nodes(first: 3) { ...A } } fragment A on Author { books(first: 2) { price } }'), 3 * (1 + 2 * (5 + 2)));
    assert.equal(cost('{ search(term: "x", max: 2) { ... on Author { bio } } }'), 3 + 2 * 8);
  });

  test('fragments, named and inline, with @skip and @include', () => {
    assert.equal(cost('{ book(id: 1) { ...F } } fragment F on Book { price }'), 5 + 2);
    assert.equal(cost('{ book(id: 1) { price @skip(if: true) rating } }'), 5 + 1);
    assert.equal(cost('{ book(id: 1) { ...F @include(if: false) } } fragment F on Book { price }'), 5);
    const conditional = 'query ($full: Boolean!) { book(id: 1) { id ... @include(if: $full) { authors { bio } } } }';
    assert.equal(cost(conditional, { full: true }), 5 + 2 * 8);
    assert.equal(cost(conditional, { full: false }), 5);
    assert.equal(cost('query ($s: Boolean = true) { expensive @skip(if: $s) }', {}), 0);
    assert.equal(refusal(conditional, {}), 'invalid-variable');
    assert.equal(refusal(conditional, { full: 'yes' }), 'invalid-variable');
  });

  test('a mutation operation adds 10; introspection costs 0', () => {
    assert.equal(cost('mutation { addBook(title: "t") { title } }'), 10 + 4 + 5);
    assert.equal(cost('{ __typename __schema { types { name fields { name } } } __type(name: "Book") { name } }'), 0);
    assert.equal(cost('{ book(id: 1) { __typename } }'), 5);
  });

  test('the operation named, or the only one', () => {
    const two = 'query A { expensive } query B { book(id: 1) { id } }';
    assert.equal(price(two, undefined, 'B').ok && (price(two, undefined, 'B') as { cost: number }).cost, 5);
    assert.equal(refusal(two), 'operation-name-required');
    assert.equal(refusal(two, undefined, 'C'), 'unknown-operation');
    assert.equal(refusal('{ expensive }', undefined, 'Named'), 'unknown-operation');
    assert.equal(refusal('fragment F on Book { id }'), 'no-operation');
    assert.equal(refusal('subscription { tick }'), 'unsupported-operation');
  });
});

describe('slicing arguments refused', () => {
  const query = 'query ($n: Int) { topBooks(first: $n) { id } }';
  for (const [label, variables] of [
    ['missing', {}],
    ['negative', { n: -1 }],
    ['a string', { n: '10' }],
    ['a fraction', { n: 1.5 }],
    ['2^60', { n: 2 ** 60 }],
    ['beyond 2^31 - 1', { n: 2 ** 31 }],
  ] as const) {
    test(`from a variable that is ${label}`, () => {
      const result = price(query, variables);
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.reason, 'invalid-slicing-argument');
      assert.match(!result.ok ? result.message : '', /topBooks/);
    });
  }

  test('a literal out of range (in a document validation would refuse too)', () => {
    assert.equal(refusal('{ topBooks(first: -3) { id } }'), 'invalid-slicing-argument');
    assert.equal(refusal('{ topBooks(first: 1152921504606846976) { id } }'), 'invalid-slicing-argument');
  });

  test('requireOneSlicingArgument: exactly one of them', () => {
    assert.equal(cost('{ pages(first: 3) }'), 0);
    assert.equal(refusal('{ pages(first: 3, last: 3) }'), 'slicing-argument-count');
    assert.equal(refusal('{ pages }'), 'slicing-argument-count');
  });

  test('a cost beyond 2^53 is refused, never rounded, wrapped or Infinity', () => {
    let query = '{ id }';
    for (let i = 0; i < 10; i++) query = `{ related(first: 1000) ${query} }`;
    const result = price(`{ book(id: 1) ${query} }`);
    assert.deepEqual(result.ok ? result : { reason: result.reason }, { reason: 'cost-overflow' });
    // just under: 1000^5 × 5 is exact
    let five = '{ id }';
    for (let i = 0; i < 5; i++) five = `{ related(first: 1000) ${five} }`;
    assert.equal(cost(`{ book(id: 1) ${five} }`), 5 + 5 * (1000 + 1000 ** 2 + 1000 ** 3 + 1000 ** 4 + 1000 ** 5));
  });
});

describe('the directives as federation names them', () => {
  const subgraph = (imports: string, body: string) =>
    `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", ${imports}])\n${body}`;

  test('renamed through @link import', () => {
    const body = `type Query { items(n: Int!): [Item!]! @size(slicingArguments: ["n"]) }
      type Item @key(fields: "id") @price(weight: 4) { id: ID! }`;
    const sdl = composeSupergraph([
      {
        name: 'a',
        url: 'http://a.invalid',
        typeDefs: subgraph('{ name: "@cost", as: "@price" }, { name: "@listSize", as: "@size" }', body),
      },
    ]);
    assert.match(sdl, /@price\(weight: 4\)/);
    assert.equal(cost('{ items(n: 3) { id } }', undefined, createCostEstimator(sdl)), 3 * 4);
  });

  test('@federation__cost and @federation__listSize without an import', () => {
    const body = `type Query { items(n: Int!): [Item!]! @federation__listSize(slicingArguments: ["n"]) }
      type Item @key(fields: "id") @federation__cost(weight: 4) { id: ID! }`;
    const sdl = composeSupergraph([{ name: 'a', url: 'http://a.invalid', typeDefs: subgraph('"@shareable"', body) }]);
    assert.equal(cost('{ items(n: 3) { id } }', undefined, createCostEstimator(sdl)), 3 * 4);
  });

  test('@join__directive, IBM string weights, nested slicing paths and lists of lists (hand-written SDL)', () => {
    const sdl = `
      schema @link(url: "https://specs.apollo.dev/cost/v0.1", as: "c") { query: Query }
      input Filter { max: Int }
      type Query {
        users(filter: Filter = { max: 4 }): [User] @c__listSize(slicingArguments: ["filter.max"])
        grid: [[User]] @join__directive(graphs: [A], name: "c__listSize", args: { assumedSize: 3 })
      }
      type User @cost(weight: "2.5") { name: String }`;
    const sized = createCostEstimator(sdl);
    assert.equal(cost('{ users { name } }', undefined, sized), 4 * 3);
    assert.equal(cost('{ users(filter: { max: 7 }) { name } }', undefined, sized), 7 * 3);
    assert.equal(cost('query ($f: Filter) { users(filter: $f) { name } }', { f: { max: 2 } }, sized), 2 * 3);
    assert.equal(cost('{ grid { name } }', undefined, sized), 3 * 3 * 3);
  });

  test('a supergraph without cost directives: 1 per object, the default list size', () => {
    const sdl = 'type Query { a: A, list: [A] } type A { b: Int, c: A }';
    assert.equal(cost('{ a { b c { b } } list { b } }', undefined, createCostEstimator(sdl)), 2 + 10);
  });
});

describe('the cache', () => {
  test('keyed by the document and the variables the estimate read, not the others', () => {
    const cached = createCostEstimator(supergraph);
    const query = 'query ($n: Int, $other: String) { topBooks(first: $n) { id } }';
    const first = cached.estimate(parse(query), undefined, { n: 2, other: 'a' }, { cacheKey: query });
    assert.deepEqual(first, { ok: true, cost: 10, nodesVisited: 2, cached: false });
    const again = cached.estimate(parse(query), undefined, { n: 2, other: 'b' }, { cacheKey: query });
    assert.deepEqual(again, { ok: true, cost: 10, nodesVisited: 0, cached: true });
    const other = cached.estimate(parse(query), undefined, { n: 3 }, { cacheKey: query });
    assert.deepEqual(other, { ok: true, cost: 15, nodesVisited: 2, cached: false });
    assert.deepEqual(cached.cacheStats(), { hits: 1, misses: 2, documents: 1 });
  });

  test('a refusal is cached like an estimate; a parsed document object is a key by itself', () => {
    const cached = createCostEstimator(supergraph);
    const document = parse('query ($n: Int) { topBooks(first: $n) { id } }');
    assert.equal(cached.estimate(document, undefined, { n: -1 }).ok, false);
    const hit = cached.estimate(document, undefined, { n: -1 });
    assert.equal(!hit.ok && hit.reason, 'invalid-slicing-argument');
    assert.equal(hit.cached, true);
    assert.equal(cached.estimate(document, undefined, { n: 1 }).ok, true);
  });

  test('bounded: the least recently used document goes first', () => {
    const cached = createCostEstimator(supergraph, { cacheDocuments: 2 });
    const q = (i: number) => `{ topBooks(first: ${i}) { id } }`;
    for (const i of [1, 2, 1, 3]) cached.estimate(parse(q(i)), undefined, undefined, { cacheKey: q(i) });
    assert.equal(cached.cacheStats().documents, 2);
    assert.equal(cached.estimate(parse(q(1)), undefined, undefined, { cacheKey: q(1) }).cached, true);
    assert.equal(cached.estimate(parse(q(2)), undefined, undefined, { cacheKey: q(2) }).cached, false);
  });

  test('the operation name is part of the key', () => {
    const cached = createCostEstimator(supergraph);
    const query = 'query A { expensive } query B { book(id: 1) { id } }';
    const a = cached.estimate(parse(query), 'A', undefined, { cacheKey: query });
    const b = cached.estimate(parse(query), 'B', undefined, { cacheKey: query });
    assert.deepEqual([a.ok && a.cost, b.ok && b.cost], [50, 5]);
  });
});
