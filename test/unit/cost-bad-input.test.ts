// Documents built to explode the estimate: priced in work linear in the document's size (the
// count of nodes visited is asserted, not time), without recursion, refused beyond 2^53.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Kind, parse, visit, type DocumentNode, type FieldNode, type SelectionSetNode } from 'graphql';
import { createCostEstimator } from '../../src/cost/estimator.js';
import type { CostEstimate } from '../../src/cost/estimate.js';
import { costSupergraph } from '../support/costSubgraphs.js';

const estimator = createCostEstimator(costSupergraph());

function price(document: DocumentNode): CostEstimate {
  return estimator.estimate(document);
}

/** The selections a document writes (fields, fragment spreads, inline fragments). */
function selectionsIn(document: DocumentNode): number {
  let count = 0;
  visit(document, {
    Field: () => void (count += 1),
    FragmentSpread: () => void (count += 1),
    InlineFragment: () => void (count += 1),
  });
  return count;
}

/** `book(id: 1) { related(first: size) { … depth times … { id } } }`, or the given innermost selection. */
function nestedRelated(depth: number, size: number, inner = '{ id }'): string {
  let selection = inner;
  for (let i = 0; i < depth; i++) selection = `{ related(first: ${size}) ${selection} }`;
  return `{ book(id: 1) ${selection} }`;
}

/** Fragments F1…Fk on Book, each with 15 aliases of `related(first: 2)` spreading the one below. */
function aliasedFragments(levels: number): string {
  const aliases = (inner: string) => Array.from({ length: 15 }, (_, i) => `a${i}: related(first: 2) ${inner}`).join(' ');
  const fragments = [`fragment F1 on Book { ${aliases('{ id }')} }`];
  for (let k = 2; k <= levels; k++) fragments.push(`fragment F${k} on Book { ${aliases(`{ ...F${k - 1} }`)} }`);
  return `{ book(id: 1) { ...F${levels} } } ${fragments.join(' ')}`;
}

describe('bad input: the estimator does bounded work', () => {
  test('lists nested ten deep with first: 1000: refused beyond 2^53, one visit per selection', () => {
    const document = parse(nestedRelated(10, 1000));
    const result = price(document);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.reason, 'cost-overflow');
    assert.ok(result.nodesVisited <= selectionsIn(document), `${result.nodesVisited} visits`);
    assert.ok(!Number.isNaN(result.nodesVisited));
  });

  test('a fragment spread thousands of times: priced once', () => {
    const spreads = Array.from({ length: 2000 }, () => '...F').join(' ');
    const once = parse(`{ book(id: 1) { ${spreads} } } fragment F on Book { price }`);
    const result = price(once);
    // repeated spreads in one selection set are collected once, as execution does
    assert.deepEqual(result, { ok: true, cost: 5 + 2, nodesVisited: 2000 + 1 + 1, cached: false });

    const aliased = Array.from({ length: 2000 }, (_, i) => `b${i}: book(id: ${i}) { ...F }`).join(' ');
    const document = parse(`{ ${aliased} } fragment F on Book { price }`);
    const each = price(document);
    // 2000 fields, 2000 spreads, and F's one selection priced once for all of them
    assert.deepEqual(each, { ok: true, cost: 2000 * (5 + 2), nodesVisited: 2000 + 2000 + 1, cached: false });
    assert.equal(selectionsIn(document), 2000 + 2000 + 1);
  });

  test('15 aliases at every level through fragments: 15^10 fields priced in a few hundred visits', () => {
    let expected = 0n;
    for (let k = 1; k <= 10; k++) expected = 15n * 2n * (5n + expected); // 15 aliases × 2 items × (Book + below)
    expected += 5n; // the book itself
    assert.ok(expected <= BigInt(Number.MAX_SAFE_INTEGER));
    const document = parse(aliasedFragments(10));
    const result = price(document);
    assert.deepEqual(result.ok && [BigInt(result.cost), result.nodesVisited], [expected, selectionsIn(document)]);

    // linear in the document: each level adds the same work
    const visits = [2, 4, 8].map((levels) => price(parse(aliasedFragments(levels))).nodesVisited);
    assert.equal(visits[1]! - visits[0]!, (visits[2]! - visits[1]!) / 2);
    // twenty levels: 30^20 × 5 is far beyond 2^53
    const twenty = price(parse(aliasedFragments(20)));
    assert.equal(!twenty.ok && twenty.reason, 'cost-overflow');
  });

  test('15 aliases at every level, written out (no fragments): one visit per selection written', () => {
    let selection = '{ id }';
    for (let level = 0; level < 3; level++) {
      selection = `{ ${Array.from({ length: 15 }, (_, i) => `a${i}: related(first: 1) ${selection}`).join(' ')} }`;
    }
    const document = parse(`{ book(id: 1) ${selection} }`, { noLocation: true });
    const result = price(document);
    const fields = 15 + 15 ** 2 + 15 ** 3;
    assert.deepEqual(result.ok && [result.cost, result.nodesVisited], [5 + 5 * fields, selectionsIn(document)]);
  });

  test('30 000 levels deep (built as a syntax tree: the parser would not get there): no stack overflow', () => {
    const depth = 30_000;
    let selectionSet: SelectionSetNode = { kind: Kind.SELECTION_SET, selections: [field('id')] };
    for (let i = 0; i < depth; i++) {
      const related: FieldNode = {
        ...field('related'),
        arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'first' }, value: { kind: Kind.INT, value: '1' } }],
        selectionSet,
      };
      selectionSet = { kind: Kind.SELECTION_SET, selections: [related] };
    }
    const root: SelectionSetNode = { kind: Kind.SELECTION_SET, selections: [{ ...field('book'), selectionSet }] };
    const document: DocumentNode = {
      kind: Kind.DOCUMENT,
      definitions: [{ kind: Kind.OPERATION_DEFINITION, operation: 'query' as never, selectionSet: root }],
    };
    const result = price(document);
    assert.deepEqual(result.ok && [result.cost, result.nodesVisited], [5 * (depth + 1), depth + 2]);
  });

  test('a fragment spread within itself (an unvalidated document) is refused, not looped', () => {
    const result = price(parse('{ book(id: 1) { ...F } } fragment F on Book { related { ...F } }'));
    assert.equal(!result.ok && result.reason, 'fragment-cycle');
  });
});

function field(name: string): FieldNode {
  return { kind: Kind.FIELD, name: { kind: Kind.NAME, value: name } };
}
