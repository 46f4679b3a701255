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
  valueFromASTUntyped,
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
  /** Per value returned: the field's weight, and a leaf type's. */
  readonly perItem: number;
  readonly listDepth: number;
  /** An object, interface or union type: its values are walked. */
  readonly composite: boolean;
  /** For an object type: the fields its values are walked with, collected on first use. */
  children?: CollectedFields;
  /** For an interface or union: the same per `__typename` returned. */
  byTypename?: Map<string, CollectedFields>;
  /** For an interface or union: whether the data's `__typename` is the type's name (no other field aliased to it). */
  typenameTrusted?: boolean;
}

/** The fields an object is walked with, and what the object itself costs. */
interface CollectedFields {
  readonly fields: readonly Collected[];
  readonly weight: number;
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
  const base = operation.operation === 'mutation' ? mutationCost : 0;
  if (!isObject(data)) return { cost: base, nodesVisited: 0 };
  const walk = walkFor(schema, document, operation, operationName ?? '', variables ?? {});
  const cost = walk.run(base, data, walk.rootFields(operation, root));
  return cost === undefined ? undefined : { cost, nodesVisited: walk.nodesVisited };
}

/**
 * The walks kept per schema and document (the runtime hands the same parsed document to every
 * request of one query text), per operation name and variable values (what `@skip`, `@include`
 * and argument weights read), a few each: a repeated operation's fields are collected once.
 */
const walks = new WeakMap<CostSchema, WeakMap<DocumentNode, Map<string, Walk>>>();
const maxWalksPerDocument = 8;
/** Variable values longer than this as JSON are not worth a cache key: such walks are not kept. */
const maxKeyLength = 512;

function walkFor(
  schema: CostSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  operationName: string,
  variables: Readonly<Record<string, unknown>>,
): Walk {
  let byDocument = walks.get(schema);
  if (!byDocument) walks.set(schema, (byDocument = new WeakMap()));
  let byKey = byDocument.get(document);
  if (!byKey) byDocument.set(document, (byKey = new Map()));
  const key = `${operationName}\n${JSON.stringify(variables)}`;
  let walk = byKey.get(key);
  if (!walk) {
    walk = new Walk(schema, document, operation, variables);
    if (key.length <= maxKeyLength) {
      if (byKey.size >= maxWalksPerDocument) byKey.delete(byKey.keys().next().value!);
      byKey.set(key, walk);
    }
  }
  return walk;
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
  /** The cost so far of the run under way. */
  #cost = 0;
  /** The objects still to walk, and the fields each is walked with (parallel stacks: no object per visit). */
  readonly #values: Record<string, unknown>[] = [];
  readonly #plans: (readonly Collected[])[] = [];
  #root: readonly Collected[] | undefined;
  readonly #fragments = new Map<string, FragmentDefinitionNode>();
  /** The fields collected per selection list and type: objects of one list share them. */
  readonly #collected = new Map<readonly SelectionSetNode[], Map<string, Collected[]>>();
  readonly #priced = new Map<string, PricedType>();

  /** The variables as execution saw them: those sent, and the operation's defaults for the others. */
  private readonly variables: Readonly<Record<string, unknown>>;

  constructor(
    private readonly schema: CostSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    sent: Readonly<Record<string, unknown>>,
  ) {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION && !this.#fragments.has(definition.name.value)) {
        this.#fragments.set(definition.name.value, definition);
      }
    }
    const variables: Record<string, unknown> = { ...sent };
    for (const definition of operation.variableDefinitions ?? []) {
      const name = definition.variable.name.value;
      if (!Object.hasOwn(variables, name) && definition.defaultValue) variables[name] = valueFromASTUntyped(definition.defaultValue);
    }
    this.variables = variables;
  }

  /** The actual cost of `data` walked with `fields`, from `base`; undefined when it cannot be told. */
  run(base: number, data: Record<string, unknown>, fields: readonly Collected[]): number | undefined {
    this.nodesVisited = 0;
    this.#cost = base;
    const values = this.#values;
    const plans = this.#plans;
    values.length = 0;
    plans.length = 0;
    values.push(data);
    plans.push(fields);
    try {
      return this.#walk();
    } finally {
      // A walk is kept for the next run of its operation: it keeps no answer alive.
      values.length = 0;
      plans.length = 0;
    }
  }

  #walk(): number | undefined {
    const values = this.#values;
    const plans = this.#plans;
    while (values.length > 0) {
      const value = values.pop()!;
      const fields = plans.pop()!;
      this.nodesVisited += fields.length;
      for (const field of fields) {
        const returned = value[field.key];
        // Absent: its parent failed before it (JSON has no undefined); null: nothing resolved below it.
        if (returned === undefined) continue;
        this.#cost += field.arguments;
        if (returned === null) continue;
        let items = 1;
        if (field.listDepth === 0) {
          this.nodesVisited += 1;
          if (field.composite && !this.#visit(field, returned)) return undefined;
        } else {
          items = this.#countItems(returned, field.listDepth, field);
          if (items < 0) return undefined;
        }
        this.#cost += field.perItem * items;
      }
      if (this.#cost > Number.MAX_SAFE_INTEGER) return undefined;
    }
    return this.#cost;
  }

  /** Queues an object returned for `field`, adding its type's weight; false when its type cannot be told. */
  #visit(field: Collected, item: unknown): boolean {
    if (!isObject(item)) return true;
    const fields = this.#fieldsOf(field, item);
    if (!fields) return false;
    this.#cost += fields.weight;
    this.#values.push(item);
    this.#plans.push(fields.fields);
    return true;
  }

  /** The fields of the operation's root object, collected once per walk. */
  rootFields(operation: OperationDefinitionNode, root: ObjectTypeInfo): readonly Collected[] {
    this.#root ??= this.collect([operation.selectionSet], this.objectType(root));
    return this.#root;
  }

  /** An object type as the walk prices it. */
  objectType(type: ObjectTypeInfo): PricedType {
    return this.#priceOf(type.name, () => [type]);
  }

  /**
   * The fields an object returned for `field` is walked with, and its weight: for an object type
   * collected once per field; for an interface or union, by the object's `__typename`.
   */
  #fieldsOf(field: Collected, value: Record<string, unknown>): CollectedFields | undefined {
    if (field.children) return field.children;
    // `__typename` in the data is the type's name only if no other field is aliased to it.
    field.typenameTrusted ??= !this.#aliasesTypename(field.selections);
    const named = field.typenameTrusted ? value['__typename'] : undefined;
    const known = typeof named === 'string' ? field.byTypename?.get(named) : undefined;
    if (known) return known;
    const priced = this.concreteType(field.type, named);
    if (!priced) return undefined;
    const children = { fields: this.collect(field.selections, priced), weight: priced.weight };
    if (field.type.kind === 'object') field.children = children;
    else if (typeof named === 'string' && priced.id === named) (field.byTypename ??= new Map()).set(named, children);
    return children;
  }

  /**
   * The values a list field returned, `depth` lists deep, nulls left out; a composite field's
   * are queued. -1 when one's type cannot be told.
   */
  #countItems(value: unknown, depth: number, field: Collected): number {
    if (!Array.isArray(value)) return 0;
    let count = 0;
    for (const item of value) {
      if (item === null || item === undefined) continue;
      if (depth > 1) {
        const inner = this.#countItems(item, depth - 1, field);
        if (inner < 0) return -1;
        count += inner;
        continue;
      }
      this.nodesVisited += 1;
      count += 1;
      if (field.composite && !this.#visit(field, item)) return -1;
    }
    return count;
  }

  /** Whether a field other than `__typename` is given the response key `__typename` in these selections (fragments followed). */
  #aliasesTypename(selections: readonly SelectionSetNode[]): boolean {
    const pending = [...selections];
    const seen = new Set<string>();
    while (pending.length > 0) {
      for (const selection of pending.pop()!.selections) {
        if (selection.kind === Kind.FIELD) {
          if (selection.alias?.value === '__typename' && selection.name.value !== '__typename') return true;
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          pending.push(selection.selectionSet);
        } else if (!seen.has(selection.name.value)) {
          seen.add(selection.name.value);
          const fragment = this.#fragments.get(selection.name.value);
          if (fragment) pending.push(fragment.selectionSet);
        }
      }
    }
    return false;
  }

  /** The type an object of `type` is priced as: `named`'s (its `__typename`) when it is one of its types, else every possible type's. */
  concreteType(type: OutputTypeInfo, named: unknown): PricedType | undefined {
    if (type.kind === 'leaf') return undefined;
    if (type.kind === 'object') return this.#priceOf(type.name, () => [type]);
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
        // Only a definite `@skip(if: true)`/`@include(if: false)`: execution validated the rest.
        if (excludedBy(selection.directives, (name) => this.variables[name]) === true) continue;
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
        perItem: definition.weight + (fieldType.kind === 'leaf' ? fieldType.weight : 0),
        listDepth: definition.listDepth,
        composite: fieldType.kind !== 'leaf',
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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
