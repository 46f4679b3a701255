/**
 * The estimates of documents already priced, so a repeated operation costs a lookup. Keyed by
 * the document (its text or persisted-query hash when the caller has one, else the parsed
 * document object itself) and its operation name; under each key, a few variants, one per set
 * of values of the variables the estimate read (slicing arguments, `@skip`/`@include`
 * conditions, weighted input values). Other variables change nothing and are not compared: an
 * estimate depends on the variables only through the values it read, so the same values read
 * give the same estimate.
 */
import type { DocumentNode } from 'graphql';
import type { CostEstimate } from './estimate.js';

interface Variant {
  /** The variables read, each with its value as JSON (`undefined`: not sent). */
  readonly reads: readonly (readonly [string, string | undefined])[];
  readonly estimate: CostEstimate;
}

export interface EstimateCacheOptions {
  /** Documents kept by key (least recently used dropped first). Default 1000. */
  readonly maxDocuments?: number;
  /** Variants kept per document and operation name (oldest dropped first). Default 16. */
  readonly maxVariants?: number;
}

export class EstimateCache {
  private readonly byKey = new Map<string, Variant[]>();
  private readonly byDocument = new WeakMap<DocumentNode, Map<string, Variant[]>>();
  private readonly maxDocuments: number;
  private readonly maxVariants: number;
  hits = 0;
  misses = 0;

  constructor(options: EstimateCacheOptions = {}) {
    this.maxDocuments = Math.max(1, options.maxDocuments ?? 1000);
    this.maxVariants = Math.max(1, options.maxVariants ?? 16);
  }

  /** How many keyed documents are held (documents cached by object are not counted). */
  get size(): number {
    return this.byKey.size;
  }

  get(
    document: DocumentNode,
    key: string | undefined,
    operationName: string | undefined,
    variables: Readonly<Record<string, unknown>>,
  ): CostEstimate | undefined {
    const variants = this.variants(document, key, operationName, false);
    const found = variants?.find((v) => v.reads.every(([name, json]) => json === jsonOf(variables, name)));
    if (found) this.hits += 1;
    else this.misses += 1;
    return found?.estimate;
  }

  set(
    document: DocumentNode,
    key: string | undefined,
    operationName: string | undefined,
    variablesRead: ReadonlyMap<string, unknown>,
    estimate: CostEstimate,
  ): void {
    const variants = this.variants(document, key, operationName, true)!;
    const reads = [...variablesRead].map(([name, value]) => [name, value === undefined ? undefined : JSON.stringify(value)] as const);
    variants.push({ reads, estimate });
    if (variants.length > this.maxVariants) variants.shift();
  }

  private variants(
    document: DocumentNode,
    key: string | undefined,
    operationName: string | undefined,
    create: boolean,
  ): Variant[] | undefined {
    const operation = operationName ?? '';
    if (key === undefined) {
      let byOperation = this.byDocument.get(document);
      if (!byOperation && create) this.byDocument.set(document, (byOperation = new Map()));
      let variants = byOperation?.get(operation);
      if (!variants && create) byOperation!.set(operation, (variants = []));
      return variants;
    }
    const full = `${operation}\n${key}`;
    let variants = this.byKey.get(full);
    if (variants) {
      // Most recently used last: the Map's order is the eviction order.
      this.byKey.delete(full);
      this.byKey.set(full, variants);
    } else if (create) {
      this.byKey.set(full, (variants = []));
      if (this.byKey.size > this.maxDocuments) this.byKey.delete(this.byKey.keys().next().value!);
    }
    return variants;
  }
}

function jsonOf(variables: Readonly<Record<string, unknown>>, name: string): string | undefined {
  if (!Object.hasOwn(variables, name)) return undefined;
  const value = variables[name];
  return value === undefined ? undefined : JSON.stringify(value);
}
