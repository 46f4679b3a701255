import { parse, type DocumentNode } from 'graphql';
import type { CurrentEstimator } from '../../cost/current.js';
import { errorBody, jsonResponse } from '../../http/errors.js';
import { fromSearchParams, readGraphQLParams } from '../../http/graphqlParams.js';
import { withBody } from '../../security/body.js';
import type { Step } from '../compose.js';
import type { RequestContext } from '../context.js';

export interface OperationCostOptions {
  readonly estimator: CurrentEstimator;
  /** `MAX_COST`: an operation estimated above it is answered 400; undefined: no ceiling. */
  readonly maxCost: number | undefined;
  /** `MAX_TOKENS`: the parse stops past it (the runtime refuses such a document anyway). */
  readonly maxTokens: number;
  /** `BATCH_LIMIT`: with 0 (batching off) a batch is the runtime's to refuse, and is not priced. */
  readonly batchLimit: number;
  readonly graphqlPath?: string;
}

/** Most documents kept parsed (by their text); the oldest goes first. */
const maxDocuments = 1000;

/** Refusals that are the client's input being wrong (a 400 here), not the document's shape (the runtime's to answer). */
const inputReasons = new Set(['invalid-slicing-argument', 'slicing-argument-count', 'invalid-variable']);

/**
 * The operation's cost, estimated before the rate limit (src/cost/): the GraphQL request's
 * document (each of a batch's, whose costs add up) is read from the bounded body (or the URL of a GET), parsed once per distinct text,
 * and priced against the served supergraph, so request and cost policies are decided together.
 * What cannot be read or priced is left to the runtime, which answers it as usual (`c.cost` stays
 * undefined and cost policies charge nothing). It answers nothing itself: `costCeiling`, after
 * the rate limit, does, so a refused operation still counts against its client's request limits.
 *
 * @example operationCost({ estimator, maxCost: 5000, maxTokens: 1000 })
 */
export function operationCost(options: OperationCostOptions): Step<RequestContext> {
  const { estimator, maxTokens } = options;
  const graphqlPath = options.graphqlPath ?? '/graphql';
  const documents = new Map<string, DocumentNode>();

  const documentOf = (query: string): DocumentNode | undefined => {
    let document = documents.get(query);
    if (document) return document;
    try {
      document = parse(query, { noLocation: true, ...(maxTokens > 0 && { maxTokens }) });
    } catch {
      return undefined;
    }
    if (documents.size >= maxDocuments) documents.delete(documents.keys().next().value!);
    documents.set(query, document);
    return document;
  };

  return async (c, next) => {
    if (c.path !== graphqlPath || c.rateLimit.source === 'exempt') return next();
    const costs = estimator.get();
    if (!costs) return next();
    let operations: Operation[] | undefined;
    try {
      operations = await readOperations(c, options.batchLimit > 0);
    } catch {
      // The body stopped arriving (the client left, or sent a broken stream): nothing to run.
      c.response = jsonResponse(400, errorBody('The request body could not be read.', 'BAD_REQUEST', c.requestId));
      return;
    }
    if (!operations) return next();
    let total = 0;
    for (const operation of operations) {
      const document = documentOf(operation.query);
      if (!document) continue;
      const result = costs.estimate(document, operation.operationName, operation.variables, { cacheKey: operation.query });
      if (result.ok) {
        total += result.cost;
        c.operations += 1;
      } else if (result.reason === 'cost-overflow') {
        c.costRefusal = { status: 400, code: 'COST_ESTIMATED_TOO_EXPENSIVE', message: result.message, extensions: {} };
      } else if (inputReasons.has(result.reason)) {
        c.costRefusal = { status: 400, code: 'BAD_USER_INPUT', message: result.message, extensions: {} };
      }
      if (c.costRefusal) return next();
    }
    if (c.operations === 0) return next();
    if (total > Number.MAX_SAFE_INTEGER) {
      c.costRefusal = {
        status: 400,
        code: 'COST_ESTIMATED_TOO_EXPENSIVE',
        message: 'The estimated cost exceeds 2^53 - 1.',
        extensions: {},
      };
      return next();
    }
    c.cost = total;
    if (options.maxCost !== undefined && total > options.maxCost) {
      c.costRefusal = {
        status: 400,
        code: 'COST_ESTIMATED_TOO_EXPENSIVE',
        message: `The operation's estimated cost ${total} is over the maximum ${options.maxCost}.`,
        extensions: { estimatedCost: total, maxCost: options.maxCost },
      };
    }
    return next();
  };
}

/**
 * Answers an operation the cost step refused (over `MAX_COST`, a cost beyond counting, a slicing
 * argument that cannot be priced): 400 in the error shape, before any subgraph is called.
 *
 * @example costCeiling()
 */
export function costCeiling(): Step<RequestContext> {
  return async (c, next) => {
    const refusal = c.costRefusal;
    if (!refusal) return next();
    c.response = jsonResponse(refusal.status, errorBody(refusal.message, refusal.code, c.requestId, refusal.extensions));
  };
}

interface Operation {
  readonly query: string;
  readonly operationName: string | undefined;
  readonly variables: Record<string, unknown> | undefined;
}

/**
 * The GraphQL request's operations (several in a batch), or undefined when it is not a request
 * this step can read. A batch's entries that are not operations are left out (the runtime answers
 * them with errors). A POST body is read here, once, as the runtime would read it
 * (src/http/graphqlParams.ts), and what was read goes to the runtime (`c.graphqlParams`): the
 * operations priced are the operations executed, and the body is not parsed twice. A body that
 * does not parse goes to the runtime as it came, for it to answer.
 */
async function readOperations(c: RequestContext, batching: boolean): Promise<Operation[] | undefined> {
  let value: unknown;
  if (c.request.method === 'GET') {
    try {
      value = fromSearchParams(new URL(c.request.url).searchParams);
    } catch {
      return undefined;
    }
  } else if (c.request.method === 'POST') {
    const body = c.body ?? c.request;
    const read = await readGraphQLParams(body);
    if (read.kind === 'other') return undefined;
    if (read.kind === 'invalid') {
      c.body = withBody(body, read.text);
      return undefined;
    }
    value = c.graphqlParams = read.params;
  } else {
    return undefined;
  }
  if (Array.isArray(value) && !batching) return undefined;
  c.batch = Array.isArray(value);
  const operations = (Array.isArray(value) ? value : [value]).map(operationOf).filter((o) => o !== undefined);
  return operations.length > 0 ? operations : undefined;
}

function operationOf(value: unknown): Operation | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { query, operationName, variables } = value as Record<string, unknown>;
  if (typeof query !== 'string') return undefined;
  return {
    query,
    operationName: typeof operationName === 'string' ? operationName : undefined,
    variables:
      typeof variables === 'object' && variables !== null && !Array.isArray(variables) ? (variables as Record<string, unknown>) : undefined,
  };
}
