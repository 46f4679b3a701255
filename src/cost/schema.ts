/**
 * What the estimator needs of a supergraph, read once: every output type with its cost weight,
 * its fields (return type, list depth, `@cost`, `@listSize`, weighted arguments) and, for
 * interfaces and unions, the object types they may resolve to; every input object type with its
 * weighted fields. Built from the supergraph SDL with graphql-js, no runtime involved.
 */
import {
  buildASTSchema,
  getNamedType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  parse,
  type ConstValueNode,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLOutputType,
} from 'graphql';
import { costDirectiveNames, readCostWeight, readListSize, type CostDirectiveNames, type ListSizeAnnotation } from './directives.js';

/** An argument of an output field, or a field of an input object type. */
export interface InputValueInfo {
  /** `@cost(weight:)`, 0 without one. */
  readonly weight: number;
  /** The named input type (list and non-null wrappers removed). */
  readonly namedType: string;
  readonly defaultValue: ConstValueNode | undefined;
}

export interface OutputFieldInfo {
  /** `Type.field`, the field's identity. */
  readonly coordinate: string;
  readonly namedType: string;
  /** How many list wrappers the return type has: `[[Int]]` is 2. */
  readonly listDepth: number;
  /** The field's own `@cost(weight:)`, 0 without one. */
  readonly weight: number;
  readonly listSize: ListSizeAnnotation | undefined;
  readonly args: ReadonlyMap<string, InputValueInfo>;
}

/** An object type: its cost when instantiated (`@cost` on the type, else 1) and its fields. */
export interface ObjectTypeInfo {
  readonly kind: 'object';
  readonly name: string;
  readonly weight: number;
  readonly fields: ReadonlyMap<string, OutputFieldInfo>;
}

/** An interface or a union: the object types it may be, priced as the most expensive of them. */
export interface AbstractTypeInfo {
  readonly kind: 'abstract';
  readonly name: string;
  readonly possibleTypes: ReadonlySet<string>;
}

/** A scalar or an enum: 0, or its `@cost(weight:)`. */
export interface LeafTypeInfo {
  readonly kind: 'leaf';
  readonly name: string;
  readonly weight: number;
}

export type OutputTypeInfo = ObjectTypeInfo | AbstractTypeInfo | LeafTypeInfo;

export interface InputObjectInfo {
  readonly fields: ReadonlyMap<string, InputValueInfo>;
  /** Whether a weight can be met anywhere below it: only such values are walked. */
  readonly weighted: boolean;
}

/** The supergraph as the estimator reads it. */
export interface CostSchema {
  readonly types: ReadonlyMap<string, OutputTypeInfo>;
  readonly inputObjects: ReadonlyMap<string, InputObjectInfo>;
  readonly roots: { readonly query?: string; readonly mutation?: string; readonly subscription?: string };
  /** The names `@cost` and `@listSize` go by in this supergraph. */
  readonly directiveNames: CostDirectiveNames;
}

/** Reads a supergraph SDL (or any SDL) into a `CostSchema`. Throws when the SDL does not parse. */
export function buildCostSchema(sdl: string): CostSchema {
  const schema = buildASTSchema(parse(sdl), { assumeValid: true, assumeValidSDL: true });
  const names = costDirectiveNames([...(schema.astNode ? [schema.astNode] : []), ...schema.extensionASTNodes]);
  const types = new Map<string, OutputTypeInfo>();
  const inputObjects = new Map<string, InputObjectInfo & { weighted: boolean }>();
  const inputFieldsOf = new Map<string, Map<string, InputValueInfo>>();

  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isObjectType(type)) {
      const fields = new Map<string, OutputFieldInfo>();
      for (const field of Object.values(type.getFields())) {
        const args = new Map<string, InputValueInfo>();
        for (const arg of field.args) args.set(arg.name, inputValue(arg.type, arg.astNode?.directives, arg.astNode?.defaultValue, names));
        fields.set(field.name, {
          coordinate: `${type.name}.${field.name}`,
          namedType: getNamedType(field.type).name,
          listDepth: listDepth(field.type),
          weight: readCostWeight(field.astNode?.directives, names) ?? 0,
          listSize: readListSize(field.astNode?.directives, names),
          args,
        });
      }
      types.set(type.name, { kind: 'object', name: type.name, weight: typeWeight(type, names) ?? 1, fields });
    } else if (isAbstractType(type)) {
      types.set(type.name, { kind: 'abstract', name: type.name, possibleTypes: new Set(schema.getPossibleTypes(type).map((t) => t.name)) });
    } else if (isScalarType(type) || isEnumType(type)) {
      types.set(type.name, { kind: 'leaf', name: type.name, weight: typeWeight(type, names) ?? 0 });
    } else if (isInputObjectType(type)) {
      const fields = new Map<string, InputValueInfo>();
      for (const field of Object.values(type.getFields())) {
        fields.set(field.name, inputValue(field.type, field.astNode?.directives, field.astNode?.defaultValue, names));
      }
      inputFieldsOf.set(type.name, fields);
    }
  }

  // An input object is weighted when one of its fields has a weight or a weighted input type;
  // input types may refer to each other in cycles, so this is a fixpoint over the graph.
  const weighted = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, fields] of inputFieldsOf) {
      if (weighted.has(name)) continue;
      for (const field of fields.values()) {
        if (field.weight > 0 || weighted.has(field.namedType)) {
          weighted.add(name);
          changed = true;
          break;
        }
      }
    }
  }
  for (const [name, fields] of inputFieldsOf) inputObjects.set(name, { fields, weighted: weighted.has(name) });

  return {
    types,
    inputObjects,
    roots: {
      query: schema.getQueryType()?.name,
      mutation: schema.getMutationType()?.name,
      subscription: schema.getSubscriptionType()?.name,
    },
    directiveNames: names,
  };
}

function inputValue(
  type: GraphQLInputType,
  directives: Parameters<typeof readCostWeight>[0],
  defaultValue: ConstValueNode | undefined,
  names: CostDirectiveNames,
): InputValueInfo {
  return { weight: readCostWeight(directives, names) ?? 0, namedType: getNamedType(type).name, defaultValue };
}

function typeWeight(type: GraphQLNamedType, names: CostDirectiveNames): number | undefined {
  for (const node of [type.astNode, ...type.extensionASTNodes]) {
    const weight = readCostWeight(node?.directives, names);
    if (weight !== undefined) return weight;
  }
  return undefined;
}

function listDepth(type: GraphQLOutputType): number {
  let depth = 0;
  for (let t: GraphQLOutputType = type; ; ) {
    if (isNonNullType(t)) t = t.ofType as GraphQLOutputType;
    else if (isListType(t)) {
      depth += 1;
      t = t.ofType as GraphQLOutputType;
    } else return depth;
  }
}
