// The actual cost: the estimate's rules over the data an operation returned. Priced here against
// the cost test subgraphs' supergraph with data written by hand, beside the estimate of the same
// document, so each rule shows where the two differ.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'graphql';
import { actualCost } from '../../src/cost/actual.js';
import { createCostEstimator } from '../../src/cost/estimator.js';
import { costSupergraph } from '../support/costSubgraphs.js';

const estimator = createCostEstimator(costSupergraph());

function actual(query: string, data: unknown, variables?: Record<string, unknown>, operationName?: string): number | undefined {
  return actualCost(estimator.schema, parse(query), operationName, variables, data)?.cost;
}

function estimate(query: string, variables?: Record<string, unknown>): number {
  const result = estimator.estimate(parse(query), undefined, variables);
  assert.ok(result.ok);
  return result.cost;
}

const book = (id: number, more: Record<string, unknown> = {}) => ({ id: String(id), ...more });

describe('the actual cost', () => {
  test('the same as the estimate when every list returned what the estimate assumed', () => {
    const query = '{ topBooks(first: 2) { id price related(first: 2) { title } } }';
    const data = { topBooks: [book(1, { price: 1, related: [book(2), book(3)] }), book(4, { price: 1, related: [book(5), book(6)] })] };
    assert.equal(actual(query, data), estimate(query));
    assert.equal(actual(query, data), 2 * (5 + 2 + 2 * 5));
  });

  test('a list counts the items it returned, not its slicing argument', () => {
    const query = '{ topBooks(first: 100) { id } }';
    assert.equal(estimate(query), 500);
    assert.equal(actual(query, { topBooks: [book(1), book(2), book(3)] }), 15);
    assert.equal(actual(query, { topBooks: [] }), 0);
  });

  test('a field that returned null (failed included) costs its arguments only; a field absent costs nothing', () => {
    // search: term @cost(3); each Book 5
    assert.equal(actual('{ search(term: "x") { ... on Book { id } } }', { search: null }), 3);
    assert.equal(actual('{ book(id: 1) { id price } }', { book: null }), 0);
    assert.equal(actual('{ book(id: 1) { id price } }', { book: { id: '1', price: null } }), 5);
    assert.equal(actual('{ book(id: 1) { id price } }', {}), 0);
    assert.equal(actual('{ book(id: 1) { id price } }', null), 0);
    // A null item of a list counts nothing.
    assert.equal(actual('{ topBooks(first: 3) { id } }', { topBooks: [book(1), null, book(3)] }), 10);
  });

  test('nested lists count every level; weighted scalars and field weights count per value returned', () => {
    assert.equal(actual('{ book(id: 1) { authors { grid } } }', { book: { authors: [{ grid: [[1, 2], [3], null] }] } }), 5 + 1);
    assert.equal(actual('{ book(id: 1) { authors { bio } } }', { book: { authors: [{ bio: 'x' }, { bio: null }] } }), 5 + 2 * 1 + 7);
    assert.equal(actual('{ expensive }', { expensive: 1 }), 50);
    assert.equal(actual('{ expensive }', { expensive: null }), 0);
  });

  test('interfaces and unions: the __typename returned decides, else the dearest possible type', () => {
    const query = '{ search(term: "x", max: 2) { __typename ... on Author { bio } ... on Book { price } } }';
    const data = {
      search: [
        { __typename: 'Author', bio: 'b' },
        { __typename: 'Book', price: 3 },
      ],
    };
    assert.equal(actual(query, data), 3 + (1 + 7) + (5 + 2));
    // Without __typename: the dearest of Book (5) and Author (1), with the fields the data holds.
    assert.equal(actual('{ search(term: "x", max: 2) { ... on Author { bio } } }', { search: [{ bio: 'b' }, {}] }), 3 + (5 + 7) + 5);
  });

  test('a key selected by several fragments counts once; @skip and @include are honoured', () => {
    const query = '{ book(id: 1) { ...A ...B price @skip(if: $skip) } } fragment A on Book { price } fragment B on Book { price }';
    const withVariable = query.replace('{ book', 'query ($skip: Boolean!) { book');
    assert.equal(actual(withVariable, { book: { price: 1 } }, { skip: true }), 5 + 2);
    assert.equal(actual('{ b1: book(id: 1) { price } b2: book(id: 2) { price } }', { b1: { price: 1 }, b2: { price: 1 } }), 14);
  });

  test("a variable's default decides @include and @skip as in execution; a field aliased __typename does not choose the type", () => {
    const defaulted = 'query ($i: Boolean! = true) { topBooks(first: 3) @include(if: $i) { id } }';
    assert.equal(actual(defaulted, { topBooks: [book(1), book(2), book(3)] }), 15);
    assert.equal(actual(defaulted, {}, { i: false }), 0);
    // `__typename: id` says "Author", but the object is priced as any of Node's types could be.
    const aliased = '{ node(id: 1) { __typename: id ... on Book { price } } }';
    assert.equal(actual(aliased, { node: { __typename: 'Author', price: 1 } }), 5 + 2);
  });

  test('a mutation adds 10; introspection costs nothing; the named operation is the one priced', () => {
    assert.equal(actual('mutation { addBook(title: "t") { id } }', { addBook: { id: '1' } }), 10 + 4 + 5);
    assert.equal(actual('mutation { addBook(title: "t") { id } }', { addBook: null }), 10);
    assert.equal(actual('{ __typename __schema { queryType { name } } }', { __typename: 'Query', __schema: {} }), 0);
    const two = 'query A { expensive } query B { book(id: 1) { id } }';
    assert.equal(actual(two, { book: { id: '1' } }, undefined, 'B'), 5);
    assert.equal(actual(two, {}), undefined, 'several operations and no name');
    assert.equal(actual(two, {}, undefined, 'C'), undefined, 'no such operation');
  });

  test('work in proportion to the data: a list of 10 000 items is walked once, its fields collected once', () => {
    const items = Array.from({ length: 10_000 }, (_, i) => book(i, { title: 't', price: 1 }));
    const result = actualCost(estimator.schema, parse('{ topBooks(first: 10000) { id title price } }'), undefined, {}, { topBooks: items });
    assert.equal(result?.cost, 10_000 * (5 + 2));
    // Per item: three fields looked up and the value of each, and the item itself: 7.
    assert.ok(result!.nodesVisited <= 10_000 * 7 + 10, `visited ${result!.nodesVisited}`);
  });

  test('a fragment spread thousands of times is collected once per type', () => {
    const spreads = Array.from({ length: 5000 }, () => '...F').join(' ');
    const query = `{ book(id: 1) { ${spreads} } } fragment F on Book { price }`;
    const result = actualCost(estimator.schema, parse(query), undefined, {}, { book: { price: 1 } });
    assert.equal(result?.cost, 7);
    assert.ok(result!.nodesVisited <= 5000 + 10, `visited ${result!.nodesVisited}`);
  });
});
