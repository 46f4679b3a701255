/**
 * The cost estimator of one supergraph: its cost schema, read once, and the cache of estimates.
 * Nothing here touches a request: the lifecycle step that prices operations holds one of these
 * per supergraph version and calls `estimate` with the parsed, validated document.
 */
import type { DocumentNode } from 'graphql';
import { EstimateCache } from './cache.js';
import { defaultListSize, estimateOperation, type CostEstimate } from './estimate.js';
import { buildCostSchema, type CostSchema } from './schema.js';

export interface CostEstimatorOptions {
  /** Items assumed in a list with neither a slicing argument nor `assumedSize` (`COST_DEFAULT_LIST_SIZE`). Default 10. */
  readonly defaultListSize?: number;
  /** Documents whose estimates are kept. Default 1000. */
  readonly cacheDocuments?: number;
  /** Estimates kept per document for different values of the variables that matter. Default 16. */
  readonly cacheVariants?: number;
}

export interface EstimateCallOptions {
  /**
   * The document's text or persisted-query hash: the cache finds a document parsed again under
   * it. Without it, the cache holds the parsed document object itself (weakly).
   */
  readonly cacheKey?: string;
}

export interface CostEstimator {
  /**
   * The cost of `operationName` (or the only operation) of a parsed, validated `document`:
   * `{ ok: true, cost }`, or `{ ok: false, reason, message }` for what cannot be priced. Never
   * throws for a client's input.
   */
  estimate(
    document: DocumentNode,
    operationName?: string | null,
    variables?: Readonly<Record<string, unknown>> | null,
    options?: EstimateCallOptions,
  ): CostEstimate;
  readonly schema: CostSchema;
  /** Cache lookups that found an estimate, and those that did not. */
  cacheStats(): { hits: number; misses: number; documents: number };
}

/**
 * Reads a supergraph's cost directives once; prices operations against it, cached.
 * Throws when `supergraphSdl` does not parse or `defaultListSize` is not a whole number ≥ 0.
 *
 * @example
 * const estimator = createCostEstimator(supergraphSdl, { defaultListSize: 10 });
 * const result = estimator.estimate(parse(query), 'Books', { first: 100 }, { cacheKey: query });
 * if (!result.ok) return badRequest(result.message); // e.g. reason 'invalid-slicing-argument'
 * if (result.cost > maxCost) return tooExpensive(result.cost, maxCost);
 */
export function createCostEstimator(supergraphSdl: string, options: CostEstimatorOptions = {}): CostEstimator {
  const listSize = options.defaultListSize ?? defaultListSize;
  if (!Number.isSafeInteger(listSize) || listSize < 0) throw new Error(`defaultListSize must be a whole number >= 0, got ${listSize}`);
  const schema = buildCostSchema(supergraphSdl);
  const cache = new EstimateCache({ maxDocuments: options.cacheDocuments, maxVariants: options.cacheVariants });
  return {
    schema,
    estimate(document, operationName, variables, call = {}) {
      const name = operationName ?? undefined;
      const values = variables ?? {};
      const cached = cache.get(document, call.cacheKey, name, values);
      if (cached) return { ...cached, nodesVisited: 0, cached: true };
      const { estimate, variablesRead } = estimateOperation(schema, document, name, values, { defaultListSize: listSize });
      cache.set(document, call.cacheKey, name, variablesRead, estimate);
      return estimate;
    },
    cacheStats: () => ({ hits: cache.hits, misses: cache.misses, documents: cache.size }),
  };
}
