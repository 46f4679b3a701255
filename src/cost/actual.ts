/**
 * The actual cost: what an operation cost once executed, by the estimate's rules (./estimate.ts)
 * over the data it returned instead of assumed sizes:
 *
 *   field = arguments + Σ over the values returned (field weight + type)
 *
 * - a list counts the items it returned (every level of a nested list), not its slicing
 *   argument or `assumedSize`; an item that is null counts nothing;
 * - a field that returned null — a failed field included, since execution answers it with null —
 *   costs its arguments only: nothing was resolved below it. A field absent from the data (its
 *   parent failed) costs nothing;
 * - an object costs its weight (1 without `@cost`) plus its selection as the data holds it; an
 *   object of an interface or union type is priced as its `__typename` says, else as the most
 *   expensive of the types it may be, with the fields the data holds;
 * - a mutation operation adds 10; `__typename`, `__schema` and `__type` cost 0.
 *
 * Fields are collected per response key as execution collects them (fragments, inline fragments,
 * `@skip`/`@include`), so a key selected by several fragments counts once. The walk keeps its
 * own stack, and collects the fields of a selection on a type once however many objects share
 * it: work in proportion to the data.
 */
import {
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { argumentsWeight, excludedBy, mutationCost } from './estimate.js';
import type { CostSchema, ObjectTypeInfo, OutputFieldInfo, OutputTypeInfo } from './schema.js';

export interface ActualCost {
  readonly cost: number;
  /** Values and selections looked at: in proportion to the data (tests hold it there). */
  readonly nodesVisited: number;
}

/** The fields of one response object: per response key, the field's nodes and definition. */
interface Collected {
  readonly key: string;
  readonly definition: OutputFieldInfo;
  readonly type: OutputTypeInfo;
  /** The field's selection sets (one per node that selects it), what its objects are walked with. */
  readonly selections: readonly SelectionSetNode[];
  readonly arguments: number;
}

/** A response object to walk: the selections on it and the type it has. */
interface Visit {
  readonly selections: readonly SelectionSetNode[];
  readonly type: OutputTypeInfo;
  readonly value: Record<string, unknown>;
  /** The operation's root object: not a value returned, so its type costs nothing. */
  readonly root?: boolean;
}

/**
 * The actual cost of `operationName` (or the only operation) of `document`, executed with
 * `variables`, that returned `data`. Undefined when it cannot be told: no such operation, a
 * type the schema does not have, or a sum beyond 2^53 − 1.
 *
 * @example
 * actualCost(schema, parse('{ books(first: 5) { title } }'), undefined, {}, { books: [{ title: 'a' }, { title: 'b' }] })
 * // { cost: 2, nodesVisited: … }: two books returned, of the five the estimate assumed
 */
export function actualCost(
  schema: CostSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>> | null | undefined,
  data: unknown,
): ActualCost | undefined {
  const operation = operationOf(document, operationName ?? undefined);
  if (!operation) return undefined;
  const rootName = schema.roots[operation.operation];
  const root = rootName === undefined ? undefined : schema.types.get(rootName);
  if (root?.kind !== 'object') return undefined;
  let cost = operation.operation === 'mutation' ? mutationCost : 0;
  if (!isObject(data)) return { cost, nodesVisited: 0 };

  const walk = new Walk(schema, document, variables ?? {});
  const stack: Visit[] = [{ selections: [operation.selectionSet], type: root, value: data, root: true }];
  while (stack.length > 0) {
    const { selections, type, value, root: isRoot } = stack.pop()!;
    const concrete = walk.concreteType(type, value);
    if (!concrete) return undefined;
    for (const field of walk.collect(selections, concrete)) {
      walk.nodesVisited += 1;
      if (!Object.hasOwn(value, field.key)) continue;
      cost += field.arguments;
      const items: unknown[] = [];
      flatten(value[field.key], field.definition.listDepth, items);
      walk.nodesVisited += items.length;
      const perItem = field.definition.weight + (field.type.kind === 'leaf' ? field.type.weight : 0);
      cost += perItem * items.length;
      if (field.type.kind !== 'leaf') {
        for (const item of items) if (isObject(item)) stack.push({ selections: field.selections, type: field.type, value: item });
      }
      if (cost > Number.MAX_SAFE_INTEGER) return undefined;
    }
    if (!isRoot) cost += concrete.weight;
    if (cost > Number.MAX_SAFE_INTEGER) return undefined;
  }
  return { cost, nodesVisited: walk.nodesVisited };
}

/** An object's type as the walk prices it: one object type, or the union of an abstract type's. */
interface PricedType {
  readonly kind: 'object' | 'abstract';
  /** The object types whose fields and fragments apply. */
  readonly objects: readonly ObjectTypeInfo[];
  /** What the object itself costs. */
  readonly weight: number;
  /** For the collection memo. */
  readonly id: string;
}

class Walk {
  nodesVisited = 0;
  readonly #fragments = new Map<string, FragmentDefinitionNode>();
  /** The fields collected per selection list and type: objects of one list share them. */
  readonly #collected = new Map<readonly SelectionSetNode[], Map<string, Collected[]>>();
  readonly #priced = new Map<string, PricedType>();

  constructor(
    private readonly schema: CostSchema,
    document: DocumentNode,
    private readonly variables: Readonly<Record<string, unknown>>,
  ) {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION && !this.#fragments.has(definition.name.value)) {
        this.#fragments.set(definition.name.value, definition);
      }
    }
  }

  /** The type an object of `type` is priced as: its `__typename`'s when the data says, else every possible type's. */
  concreteType(type: OutputTypeInfo, value: Record<string, unknown>): PricedType | undefined {
    if (type.kind === 'leaf') return undefined;
    if (type.kind === 'object') return this.#priceOf(type.name, () => [type]);
    const named = value['__typename'];
    if (typeof named === 'string' && type.possibleTypes.has(named)) {
      const object = this.schema.types.get(named);
      if (object?.kind === 'object') return this.#priceOf(named, () => [object]);
    }
    return this.#priceOf(type.name, () =>
      [...type.possibleTypes].flatMap((name) => {
        const t = this.schema.types.get(name);
        return t?.kind === 'object' ? [t] : [];
      }),
    );
  }

  #priceOf(id: string, objects: () => ObjectTypeInfo[]): PricedType {
    let priced = this.#priced.get(id);
    if (!priced) {
      const list = objects();
      priced = {
        kind: list.length === 1 && list[0]!.name === id ? 'object' : 'abstract',
        objects: list,
        weight: list.length === 0 ? 1 : Math.max(...list.map((o) => o.weight)),
        id,
      };
      this.#priced.set(id, priced);
    }
    return priced;
  }

  /** The fields that `selections` select on an object of `type`, by response key, as execution collects them. */
  collect(selections: readonly SelectionSetNode[], type: PricedType): readonly Collected[] {
    let byType = this.#collected.get(selections);
    if (!byType) this.#collected.set(selections, (byType = new Map()));
    const known = byType.get(type.id);
    if (known) return known;

    const fields = new Map<string, { nodes: FieldNode[]; definition: OutputFieldInfo }>();
    const spread = new Set<string>();
    const pending: SelectionSetNode[] = [...selections].reverse();
    while (pending.length > 0) {
      const set = pending.pop()!;
      const nested: SelectionSetNode[] = [];
      for (const selection of set.selections) {
        this.nodesVisited += 1;
        if (excludedBy(selection.directives, (name) => this.variables[name]) !== false) continue;
        if (selection.kind === Kind.FIELD) {
          const name = selection.name.value;
          if (name === '__typename' || name === '__schema' || name === '__type') continue;
          const definition = this.#definition(type, name);
          if (!definition) continue;
          const key = selection.alias?.value ?? name;
          const entry = fields.get(key);
          if (entry) entry.nodes.push(selection);
          else fields.set(key, { nodes: [selection], definition });
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          if (this.#applies(type, selection.typeCondition?.name.value)) nested.push(selection.selectionSet);
        } else {
          const name = selection.name.value;
          if (spread.has(name)) continue;
          spread.add(name);
          const fragment = this.#fragments.get(name);
          if (fragment && this.#applies(type, fragment.typeCondition.name.value)) nested.push(fragment.selectionSet);
        }
      }
      // In document order: the selections of a fragment come where the fragment is.
      for (let i = nested.length - 1; i >= 0; i--) pending.push(nested[i]!);
    }

    const collected: Collected[] = [];
    for (const [key, { nodes, definition }] of fields) {
      const fieldType = this.schema.types.get(definition.namedType);
      if (!fieldType) continue;
      collected.push({
        key,
        definition,
        type: fieldType,
        selections: nodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : [])),
        // A field selected twice under one key is resolved once, with the first node's arguments.
        arguments: argumentsWeight(
          this.schema,
          nodes[0]!,
          definition,
          (name) => this.variables[name],
          () => (this.nodesVisited += 1),
        ),
      });
    }
    byType.set(type.id, collected);
    return collected;
  }

  /** A field of the priced type: the object type's, or the first of the possible types that has it. */
  #definition(type: PricedType, name: string): OutputFieldInfo | undefined {
    for (const object of type.objects) {
      const definition = object.fields.get(name);
      if (definition) return definition;
    }
    return undefined;
  }

  /** Whether a fragment on `condition` applies to an object of the priced type (to one of its possible types). */
  #applies(type: PricedType, condition: string | undefined): boolean {
    if (condition === undefined) return true;
    return type.objects.some((object) => {
      if (condition === object.name) return true;
      const target = this.schema.types.get(condition);
      return target?.kind === 'abstract' && target.possibleTypes.has(object.name);
    });
  }
}

function operationOf(document: DocumentNode, operationName: string | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operationName !== undefined) return operations.find((o) => o.name?.value === operationName);
  return operations.length === 1 ? operations[0] : undefined;
}

/** The values of a field `depth` lists deep, nulls left out, appended to `into`. */
function flatten(value: unknown, depth: number, into: unknown[]): void {
  if (value === null || value === undefined) return;
  if (depth === 0) {
    into.push(value);
    return;
  }
  if (!Array.isArray(value)) return;
  for (const item of value) flatten(item, depth - 1, into);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
