/**
 * The IBM GraphQL cost directives (`@cost`, `@listSize`) as federation composes them into a
 * supergraph: which names they go by there, and their arguments read off schema AST nodes.
 *
 * Composition (The Guild's and Apollo's) writes them as plain directives on the supergraph's
 * fields, arguments and types, and links the cost spec on the schema:
 *
 * ```graphql
 * schema @link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@cost", "@listSize"]) { … }
 * ```
 *
 * A subgraph that renames one (`import: [{ name: "@cost", as: "@price" }]`) gets that name in the
 * supergraph too, and one that writes `@federation__listSize` without importing it keeps that
 * name. Directives that composition passes through `@join__directive(graphs:, name:, args:)` are
 * read as well. Nothing here knows about operations: it reads the schema once.
 */
import { Kind, type ConstDirectiveNode, type ConstValueNode, type SchemaDefinitionNode, type SchemaExtensionNode } from 'graphql';

/** The directive names that mean `@cost` and `@listSize` in one supergraph. */
export interface CostDirectiveNames {
  readonly cost: ReadonlySet<string>;
  readonly listSize: ReadonlySet<string>;
}

/** `@listSize` as written on one field definition. */
export interface ListSizeAnnotation {
  readonly assumedSize: number | undefined;
  /** Argument names, or dotted paths into an input object argument (`filter.max`). */
  readonly slicingArguments: readonly string[];
  readonly sizedFields: readonly string[];
  /** Default `true`, as the directive's definition says. */
  readonly requireOneSlicingArgument: boolean;
}

const costSpecUrl = /^https:\/\/specs\.apollo\.dev\/cost\/v\d+\.\d+\/?$/;

/** The names of `@cost` and `@listSize` in a supergraph, from its `@link`s of the cost spec. */
export function costDirectiveNames(schemaNodes: readonly (SchemaDefinitionNode | SchemaExtensionNode)[]): CostDirectiveNames {
  // The IBM names themselves and federation's prefixed ones are always read; a rename through
  // `import` replaces the plain name (which may then belong to another directive).
  const cost = new Set(['cost', 'federation__cost']);
  const listSize = new Set(['listSize', 'federation__listSize']);
  for (const node of schemaNodes) {
    for (const directive of node.directives ?? []) {
      if (directive.name.value !== 'link') continue;
      const args = directiveArguments(directive);
      const url = args.get('url');
      if (url?.kind !== Kind.STRING || !costSpecUrl.test(url.value)) continue;
      const as = args.get('as');
      const namespace = as?.kind === Kind.STRING ? as.value : 'cost';
      cost.add(`${namespace}__cost`);
      listSize.add(`${namespace}__listSize`);
      const imports = args.get('import');
      for (const item of imports?.kind === Kind.LIST ? imports.values : []) {
        const [name, alias] = importedName(item);
        const set = name === 'cost' ? cost : name === 'listSize' ? listSize : undefined;
        if (!set || name === undefined || alias === undefined) continue;
        if (alias !== name) set.delete(name);
        set.add(alias);
      }
    }
  }
  return { cost, listSize };
}

/** `"@cost"` → [cost, cost]; `{ name: "@cost", as: "@price" }` → [cost, price]. */
function importedName(value: ConstValueNode): [string | undefined, string | undefined] {
  const bare = (s: string) => s.replace(/^@/, '');
  if (value.kind === Kind.STRING) return [bare(value.value), bare(value.value)];
  if (value.kind !== Kind.OBJECT) return [undefined, undefined];
  let name: string | undefined;
  let as: string | undefined;
  for (const field of value.fields) {
    if (field.value.kind !== Kind.STRING) continue;
    if (field.name.value === 'name') name = bare(field.value.value);
    if (field.name.value === 'as') as = bare(field.value.value);
  }
  return [name, as ?? name];
}

function directiveArguments(directive: ConstDirectiveNode): Map<string, ConstValueNode> {
  return new Map((directive.arguments ?? []).map((arg) => [arg.name.value, arg.value]));
}

/**
 * The arguments of the first directive among `directives` named in `names`, or passed through
 * `@join__directive(name:, args:)` under one of those names; `undefined` when there is none.
 */
function findDirective(directives: readonly ConstDirectiveNode[], names: ReadonlySet<string>): Map<string, ConstValueNode> | undefined {
  for (const directive of directives) {
    if (names.has(directive.name.value)) return directiveArguments(directive);
    if (directive.name.value !== 'join__directive') continue;
    const args = directiveArguments(directive);
    const name = args.get('name');
    if (name?.kind !== Kind.STRING || !names.has(name.value)) continue;
    const inner = args.get('args');
    return new Map(inner?.kind === Kind.OBJECT ? inner.fields.map((f) => [f.name.value, f.value]) : []);
  }
  return undefined;
}

/**
 * The `@cost(weight:)` among `directives`, as a whole number ≥ 0 (`undefined` without one).
 * The IBM draft writes weights as strings (`"2.0"`), federation as Int: both are read; a
 * fraction is rounded up and a negative or unreadable weight counts as 0, so that no
 * annotation can make an operation cheaper than its parts.
 */
export function readCostWeight(directives: readonly ConstDirectiveNode[] | undefined, names: CostDirectiveNames): number | undefined {
  const args = findDirective(directives ?? [], names.cost);
  if (!args) return undefined;
  const weight = args.get('weight');
  let value = Number.NaN;
  if (weight?.kind === Kind.INT || weight?.kind === Kind.FLOAT || weight?.kind === Kind.STRING) value = Number(weight.value);
  if (!Number.isFinite(value) || value <= 0) return 0;
  return Math.min(Math.ceil(value), Number.MAX_SAFE_INTEGER);
}

/** The `@listSize(…)` among `directives`, or `undefined`. */
export function readListSize(
  directives: readonly ConstDirectiveNode[] | undefined,
  names: CostDirectiveNames,
): ListSizeAnnotation | undefined {
  const args = findDirective(directives ?? [], names.listSize);
  if (!args) return undefined;
  const assumed = args.get('assumedSize');
  const assumedSize = assumed?.kind === Kind.INT && Number(assumed.value) >= 0 ? Number(assumed.value) : undefined;
  const strings = (value: ConstValueNode | undefined): string[] => {
    if (value?.kind === Kind.STRING) return [value.value];
    if (value?.kind !== Kind.LIST) return [];
    return value.values.flatMap((v) => (v.kind === Kind.STRING ? [v.value] : []));
  };
  const requireOne = args.get('requireOneSlicingArgument');
  return {
    assumedSize,
    slicingArguments: strings(args.get('slicingArguments')),
    sizedFields: strings(args.get('sizedFields')),
    requireOneSlicingArgument: requireOne?.kind === Kind.BOOLEAN ? requireOne.value : true,
  };
}
