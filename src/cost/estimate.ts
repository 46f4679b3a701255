/**
 * The estimate: what one operation costs, priced against the supergraph before execution by the
 * IBM cost directives. A pure function of the schema, the document, the operation's name and its
 * variables; it never throws for anything a client can send, it answers a refusal instead.
 *
 * The model (per field, each time it is resolved):
 *
 *   field = arguments + count × (field weight + type)
 *
 * - type: an object type costs its `@cost` weight, else 1, plus the cost of the selection on it;
 *   an interface or union costs its most expensive possible object type (with the selection
 *   as it applies to that type); a scalar or enum its `@cost` weight, else 0.
 * - count: 1 for a field that is not a list; for a list, the size of its slicing argument
 *   (`@listSize(slicingArguments:)`: the literal, the variable, or the argument's default; the
 *   largest when several may be given), else `@listSize(assumedSize:)`, else the default list
 *   size (10). A field named in its parent's `@listSize(sizedFields:)` takes the parent's size.
 *   Each level of a nested list (`[[T]]`) multiplies by the size again.
 * - arguments: the `@cost` weight of each argument given, and of each input object field given
 *   in its value (a literal or the variable's value).
 * - a mutation operation adds 10; `__typename`, `__schema` and `__type` cost 0; fields under
 *   `@skip(if: true)` or `@include(if: false)` cost 0.
 *
 * Bounded work: each selection set is priced once per (object type, sized-fields context) and
 * that unit price is multiplied where it is used, so a fragment spread a thousand times, or
 * fragments that nest fifteen aliases deep at every level, are walked once each; the walk keeps
 * its own stack (no recursion, any depth). `nodesVisited` counts the selections and argument
 * values looked at, which tests hold to a linear bound.
 */
import {
  Kind,
  valueFromASTUntyped,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { CostSchema, ObjectTypeInfo, OutputFieldInfo } from './schema.js';

/** Why an operation could not be priced. */
export type CostRefusalReason =
  /** The document holds no operation. */
  | 'no-operation'
  /** `operationName` names no operation of the document. */
  | 'unknown-operation'
  /** Several operations and no `operationName`. */
  | 'operation-name-required'
  /** The schema has no root type for the operation's type. */
  | 'unsupported-operation'
  /** A field, type or fragment the schema or document does not define (an unvalidated document). */
  | 'unknown-field'
  | 'unknown-type'
  | 'unknown-fragment'
  | 'fragment-cycle'
  /** A slicing argument that is not a whole number from 0 to 2^31−1, or whose variable is missing. */
  | 'invalid-slicing-argument'
  /** `requireOneSlicingArgument`: none or several of the slicing arguments given. */
  | 'slicing-argument-count'
  /** A `@skip`/`@include` condition whose variable is missing or not a boolean. */
  | 'invalid-variable'
  /** The cost exceeds 2^53−1, beyond which a number is no longer exact. */
  | 'cost-overflow';

/** The estimate of one operation: its cost, or why it has none. Never NaN, never Infinity. */
export type CostEstimate =
  | { readonly ok: true; readonly cost: number; readonly nodesVisited: number; readonly cached: boolean }
  | {
      readonly ok: false;
      readonly reason: CostRefusalReason;
      readonly message: string;
      readonly nodesVisited: number;
      readonly cached: boolean;
    };

export interface EstimateOptions {
  /** Items assumed in a list with neither a slicing argument nor `assumedSize`. Default 10. */
  readonly defaultListSize?: number;
}

/** An estimate with the variable values it read (absent ones as `undefined`): the cache's key. */
export interface EstimateWithReads {
  readonly estimate: CostEstimate;
  readonly variablesRead: ReadonlyMap<string, unknown>;
}

/** What a mutation operation adds, as Apollo Router and the IBM draft have it. */
export const mutationCost = 10;
export const defaultListSize = 10;
const maxSlicingValue = 2 ** 31 - 1;

class Refusal {
  constructor(
    readonly reason: CostRefusalReason,
    readonly message: string,
  ) {}
}

/** The size that `sizedFields` of a parent field give to its child list fields. */
interface Sizing {
  readonly id: string;
  readonly fields: ReadonlySet<string>;
  readonly size: number;
}

/** A selection set priced on one object type, in one sizing context. */
interface Unit {
  readonly selectionSet: SelectionSetNode;
  readonly type: ObjectTypeInfo;
  readonly sizing: Sizing | undefined;
}

/** One selection's share of a unit's cost, known once the units it names are priced. */
type Term =
  /** A field: arguments + count × (weight + the most expensive of its object types, each with its selection). */
  | {
      readonly arguments: number;
      readonly count: number;
      readonly weight: number;
      readonly options: readonly Unit[];
      readonly leaf: number;
    }
  /** A fragment, inline or named, that applies to the unit's type: its selection's cost on it. */
  | { readonly nested: Unit };

interface Task {
  readonly unit: Unit;
  terms?: Term[];
}

const inProgress = -1;

/**
 * Prices `operationName` (or the document's only operation) of `document` with `variables`.
 *
 * @example
 * const schema = buildCostSchema(supergraphSdl);
 * const { estimate } = estimateOperation(schema, parse('{ books(first: 5) { title } }'), undefined, {});
 * // estimate: { ok: true, cost: 5, nodesVisited: 2, cached: false }
 */
export function estimateOperation(
  schema: CostSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>> | null | undefined,
  options: EstimateOptions = {},
): EstimateWithReads {
  const run = new Estimation(schema, document, variables ?? {}, options.defaultListSize ?? defaultListSize);
  try {
    const cost = run.operation(operationName ?? undefined);
    return { estimate: { ok: true, cost, nodesVisited: run.nodesVisited, cached: false }, variablesRead: run.variablesRead };
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    return {
      estimate: { ok: false, reason: err.reason, message: err.message, nodesVisited: run.nodesVisited, cached: false },
      variablesRead: run.variablesRead,
    };
  }
}

function add(a: number, b: number): number {
  const sum = a + b;
  if (sum > Number.MAX_SAFE_INTEGER) throw new Refusal('cost-overflow', 'The estimated cost exceeds 2^53 - 1.');
  return sum;
}

function multiply(a: number, b: number): number {
  const product = a * b;
  if (product > Number.MAX_SAFE_INTEGER) throw new Refusal('cost-overflow', 'The estimated cost exceeds 2^53 - 1.');
  return product;
}

/** One estimate's state: the memo of unit prices, the variables read, the count of nodes. */
class Estimation {
  nodesVisited = 0;
  readonly variablesRead = new Map<string, unknown>();
  private readonly fragments = new Map<string, FragmentDefinitionNode>();
  private readonly memo = new Map<SelectionSetNode, Map<string, number>>();
  private readonly sizings = new Map<string, Sizing>();
  private variableDefaults = new Map<string, ValueNode>();

  constructor(
    private readonly schema: CostSchema,
    private readonly document: DocumentNode,
    private readonly variables: Readonly<Record<string, unknown>>,
    private readonly defaultListSize: number,
  ) {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION && !this.fragments.has(definition.name.value)) {
        this.fragments.set(definition.name.value, definition);
      }
    }
  }

  operation(operationName: string | undefined): number {
    const operations = this.document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    let operation: OperationDefinitionNode | undefined;
    if (operationName !== undefined) {
      operation = operations.find((o) => o.name?.value === operationName);
      if (!operation) throw new Refusal('unknown-operation', `Unknown operation named "${operationName}".`);
    } else if (operations.length === 1) {
      operation = operations[0];
    } else if (operations.length === 0) {
      throw new Refusal('no-operation', 'The document contains no operation.');
    } else {
      throw new Refusal('operation-name-required', 'The document contains several operations: operationName is required.');
    }
    operation = operation!;
    for (const definition of operation.variableDefinitions ?? []) {
      if (definition.defaultValue) this.variableDefaults.set(definition.variable.name.value, definition.defaultValue);
    }
    const rootName = this.schema.roots[operation.operation];
    const root = rootName === undefined ? undefined : this.schema.types.get(rootName);
    if (root?.kind !== 'object')
      throw new Refusal('unsupported-operation', `The schema does not support ${operation.operation} operations.`);
    const base = operation.operation === 'mutation' ? mutationCost : 0;
    return add(base, this.price({ selectionSet: operation.selectionSet, type: root, sizing: undefined }));
  }

  private memoOf(unit: Unit): Map<string, number> {
    let byType = this.memo.get(unit.selectionSet);
    if (!byType) this.memo.set(unit.selectionSet, (byType = new Map()));
    return byType;
  }

  private static key(unit: Unit): string {
    return unit.sizing ? `${unit.type.name} ${unit.sizing.id}` : unit.type.name;
  }

  /** The unit's cost, each unit below it priced once, on an explicit stack. */
  private price(root: Unit): number {
    const stack: Task[] = [{ unit: root }];
    while (stack.length > 0) {
      const task = stack[stack.length - 1]!;
      const memo = this.memoOf(task.unit);
      const key = Estimation.key(task.unit);
      if (!task.terms) {
        if (memo.get(key) !== undefined) {
          stack.pop(); // priced meanwhile, by an earlier copy of the same unit
          continue;
        }
        memo.set(key, inProgress);
        task.terms = this.expand(task.unit);
        for (const term of task.terms) {
          for (const unit of 'nested' in term ? [term.nested] : term.options) {
            const known = this.memoOf(unit).get(Estimation.key(unit));
            if (known === inProgress) throw new Refusal('fragment-cycle', 'The document spreads a fragment within itself.');
            if (known === undefined) stack.push({ unit });
          }
        }
        continue;
      }
      stack.pop();
      memo.set(key, this.evaluate(task.terms));
    }
    return this.memoOf(root).get(Estimation.key(root))!;
  }

  /** Sums a unit's terms, every unit they name being priced already. */
  private evaluate(terms: readonly Term[]): number {
    let total = 0;
    for (const term of terms) {
      if ('nested' in term) {
        total = add(total, this.memoOf(term.nested).get(Estimation.key(term.nested))!);
        continue;
      }
      let type = term.leaf;
      for (const unit of term.options) {
        type = Math.max(type, add(unit.type.weight, this.memoOf(unit).get(Estimation.key(unit))!));
      }
      total = add(total, add(term.arguments, multiply(term.count, add(term.weight, type))));
    }
    return total;
  }

  /** The terms of one unit: its selections that apply to its type, the units they need. */
  private expand(unit: Unit): Term[] {
    const terms: Term[] = [];
    const spread = new Set<string>();
    for (const selection of unit.selectionSet.selections) {
      this.nodesVisited += 1;
      if (this.excluded(selection.directives)) continue;
      switch (selection.kind) {
        case Kind.FIELD: {
          const term = this.field(selection, unit);
          if (term) terms.push(term);
          break;
        }
        case Kind.INLINE_FRAGMENT:
          if (this.applies(unit.type, selection.typeCondition?.name.value)) {
            terms.push({ nested: { selectionSet: selection.selectionSet, type: unit.type, sizing: unit.sizing } });
          }
          break;
        case Kind.FRAGMENT_SPREAD: {
          const name = selection.name.value;
          // A spread repeated in one selection set is collected once by execution; one carrying
          // directives is counted each time (its conditions may differ): never less than runs.
          if (!selection.directives?.length) {
            if (spread.has(name)) break;
            spread.add(name);
          }
          const fragment = this.fragments.get(name);
          if (!fragment) throw new Refusal('unknown-fragment', `Unknown fragment "${name}".`);
          if (this.applies(unit.type, fragment.typeCondition.name.value)) {
            terms.push({ nested: { selectionSet: fragment.selectionSet, type: unit.type, sizing: unit.sizing } });
          }
          break;
        }
      }
    }
    return terms;
  }

  private field(node: FieldNode, unit: Unit): Term | undefined {
    const name = node.name.value;
    if (name === '__typename' || name === '__schema' || name === '__type') return undefined;
    const definition = unit.type.fields.get(name);
    if (!definition) throw new Refusal('unknown-field', `Unknown field "${unit.type.name}.${name}".`);
    const type = this.schema.types.get(definition.namedType);
    if (!type) throw new Refusal('unknown-type', `Unknown type "${definition.namedType}".`);

    const size = this.listSize(node, definition, unit.sizing);
    let count = 1;
    for (let level = 0; level < definition.listDepth; level++) count = multiply(count, size);
    const argumentsCost = this.argumentsCost(node, definition);
    if (type.kind === 'leaf') return { arguments: argumentsCost, count, weight: definition.weight, options: [], leaf: type.weight };

    const sizing = definition.listSize?.sizedFields.length ? this.sizing(definition, size) : undefined;
    const objects =
      type.kind === 'object'
        ? [type]
        : [...type.possibleTypes].flatMap((n) => {
            const t = this.schema.types.get(n);
            return t?.kind === 'object' ? [t] : [];
          });
    // A composite field without a selection (only in an unvalidated document) costs its type.
    const selectionSet = node.selectionSet ?? { kind: Kind.SELECTION_SET, selections: [] };
    return {
      arguments: argumentsCost,
      count,
      weight: definition.weight,
      options: objects.map((object) => ({ selectionSet, type: object, sizing })),
      // An interface no object type implements still costs what a composite type costs.
      leaf: objects.length === 0 ? 1 : 0,
    };
  }

  private sizing(definition: OutputFieldInfo, size: number): Sizing {
    const id = `${definition.coordinate}=${size}`;
    let sizing = this.sizings.get(id);
    if (!sizing) this.sizings.set(id, (sizing = { id, fields: new Set(definition.listSize!.sizedFields), size }));
    return sizing;
  }

  /** The size of a list field: its parent's sizing, its slicing argument, `assumedSize`, the default. */
  private listSize(node: FieldNode, definition: OutputFieldInfo, parent: Sizing | undefined): number {
    if (definition.listDepth > 0 && parent?.fields.has(node.name.value)) return parent.size;
    const listSize = definition.listSize;
    if (!listSize) return this.defaultListSize;
    if (listSize.slicingArguments.length === 0) return listSize.assumedSize ?? this.defaultListSize;
    const given: number[] = [];
    for (const path of listSize.slicingArguments) {
      const value = this.slicingValue(node, definition, path);
      if (value !== undefined) given.push(value);
    }
    if (listSize.requireOneSlicingArgument && given.length !== 1) {
      throw new Refusal(
        'slicing-argument-count',
        `Field "${definition.coordinate}" requires exactly one of the slicing arguments ${listSize.slicingArguments.join(', ')}; ${given.length} given.`,
      );
    }
    if (given.length === 0) return listSize.assumedSize ?? this.defaultListSize;
    return Math.max(...given);
  }

  /**
   * One slicing argument's value (`first`, or a path into an input object: `filter.max`): from
   * the literal, the variable (its value, else the operation's default for it), else the
   * argument's default. `undefined` when not given or null.
   */
  private slicingValue(node: FieldNode, definition: OutputFieldInfo, path: string): number | undefined {
    const [head, ...rest] = path.split('.');
    const argument = node.arguments?.find((a) => a.name.value === head);
    let value: unknown;
    if (argument) {
      value = this.valueAt(argument.value, rest, definition, path);
    } else {
      const defaultValue = definition.args.get(head!)?.defaultValue;
      value = defaultValue ? pathIn(valueFromASTUntyped(defaultValue), rest) : undefined;
    }
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > maxSlicingValue) {
      throw new Refusal(
        'invalid-slicing-argument',
        `Slicing argument "${path}" of "${definition.coordinate}" must be a whole number from 0 to ${maxSlicingValue}; got ${describe(value)}.`,
      );
    }
    return value;
  }

  /** The value at `path` in an argument's value node, following variables into their values. */
  private valueAt(node: ValueNode, path: readonly string[], definition: OutputFieldInfo, slicing: string): unknown {
    let current: ValueNode = node;
    for (let i = 0; ; i++) {
      if (current.kind === Kind.VARIABLE) {
        const variable = this.variable(current.name.value);
        if (!variable.given) {
          throw new Refusal(
            'invalid-slicing-argument',
            `Slicing argument "${slicing}" of "${definition.coordinate}" comes from variable $${current.name.value}, which is missing.`,
          );
        }
        return pathIn(variable.value, path.slice(i));
      }
      if (i === path.length) return valueFromASTUntyped(current, {});
      if (current.kind !== Kind.OBJECT) return undefined;
      const field = current.fields.find((f) => f.name.value === path[i]);
      if (!field) return undefined;
      current = field.value;
    }
  }

  /** A variable's value: the one sent, else the operation's default; recorded for the cache. */
  private variable(name: string): { given: boolean; value: unknown } {
    const sent = Object.hasOwn(this.variables, name);
    const value = sent ? this.variables[name] : undefined;
    this.variablesRead.set(name, value);
    if (sent) return { given: true, value };
    const defaultValue = this.variableDefaults.get(name);
    return defaultValue ? { given: true, value: valueFromASTUntyped(defaultValue) } : { given: false, value: undefined };
  }

  /** `@skip(if: true)` or `@include(if: false)`. */
  private excluded(directives: readonly DirectiveNode[] | undefined): boolean {
    const found = excludedBy(directives, (name) => this.variable(name).value);
    if (typeof found === 'string') throw new Refusal('invalid-variable', found);
    return found;
  }

  /** The weights of the arguments given and of the input object fields given in their values. */
  private argumentsCost(node: FieldNode, definition: OutputFieldInfo): number {
    const cost = argumentsWeight(
      this.schema,
      node,
      definition,
      (name) => this.variable(name).value,
      () => (this.nodesVisited += 1),
    );
    if (cost > Number.MAX_SAFE_INTEGER) throw new Refusal('cost-overflow', 'The estimated cost exceeds 2^53 - 1.');
    return cost;
  }

  /** Whether a fragment on `condition` applies to an object of `type`. */
  private applies(type: ObjectTypeInfo, condition: string | undefined): boolean {
    if (condition === undefined || condition === type.name) return true;
    const target = this.schema.types.get(condition);
    if (!target) throw new Refusal('unknown-type', `Unknown type "${condition}".`);
    return target.kind === 'abstract' && target.possibleTypes.has(type.name);
  }
}

/**
 * Whether `@skip(if: true)` or `@include(if: false)` leaves a selection out: true or false, or a
 * message when a condition is not a boolean. `variable` reads a variable's value.
 */
export function excludedBy(directives: readonly DirectiveNode[] | undefined, variable: (name: string) => unknown): boolean | string {
  for (const directive of directives ?? []) {
    const name = directive.name.value;
    if (name !== 'skip' && name !== 'include') continue;
    const condition = directive.arguments?.find((a) => a.name.value === 'if')?.value;
    let value: unknown;
    if (condition?.kind === Kind.VARIABLE) value = variable(condition.name.value);
    else if (condition?.kind === Kind.BOOLEAN) value = condition.value;
    if (typeof value !== 'boolean') return `@${name}(if:) must be a boolean; got ${describe(value)}.`;
    if (value === (name === 'skip')) return true;
  }
  return false;
}

/**
 * The weights of the arguments a field is given and of the input object fields given in their
 * values (a literal, or a variable's value). Beyond 2^53 − 1 the sum is returned as it is: the
 * caller refuses it. `visit` is called for each value node walked.
 */
export function argumentsWeight(
  schema: CostSchema,
  node: FieldNode,
  definition: OutputFieldInfo,
  variable: (name: string) => unknown,
  visit: () => void,
): number {
  let total = 0;
  for (const argument of node.arguments ?? []) {
    const info = definition.args.get(argument.name.value);
    if (!info) continue;
    total += info.weight;
    if (schema.inputObjects.get(info.namedType)?.weighted) total += inputWeight(schema, argument.value, info.namedType, variable, visit);
  }
  return total;
}

/** Walks one argument value (literal, variables within it followed) for weighted input fields. */
function inputWeight(
  schema: CostSchema,
  value: ValueNode,
  typeName: string,
  variable: (name: string) => unknown,
  visit: () => void,
): number {
  let total = 0;
  const stack: { node?: ValueNode; json?: unknown; type: string }[] = [{ node: value, type: typeName }];
  while (stack.length > 0) {
    const { node, json, type } = stack.pop()!;
    visit();
    const input = schema.inputObjects.get(type);
    if (!input?.weighted) continue;
    if (node) {
      if (node.kind === Kind.VARIABLE) stack.push({ json: variable(node.name.value), type });
      else if (node.kind === Kind.LIST) for (const item of node.values) stack.push({ node: item, type });
      else if (node.kind === Kind.OBJECT) {
        for (const field of node.fields) {
          const info = input.fields.get(field.name.value);
          if (!info) continue;
          total += info.weight;
          stack.push({ node: field.value, type: info.namedType });
        }
      }
    } else if (Array.isArray(json)) {
      for (const item of json) stack.push({ json: item, type });
    } else if (typeof json === 'object' && json !== null) {
      for (const [key, item] of Object.entries(json)) {
        const info = input.fields.get(key);
        if (!info || item === undefined) continue;
        total += info.weight;
        stack.push({ json: item, type: info.namedType });
      }
    }
  }
  return total;
}

function pathIn(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === undefined) return 'nothing';
  return value === null ? 'null' : typeof value;
}
