import type { DocumentNode, ExecutionResult } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';

/**
 * Where the lifecycle hands the runtime what to do with an executed operation's result: a field
 * of the server context, which the GraphQL context carries (as `requestIdField` does).
 */
export const costReportField = 'tollgateCostReport';

/**
 * Where the lifecycle hands the runtime the GraphQL parameters it read from the body (to price
 * them): the runtime executes those instead of reading the body again (`useParsedParams`).
 */
export const graphqlParamsField = 'tollgateGraphQLParams';

/**
 * The runtime plugin that takes a request's GraphQL parameters from the server context when the
 * lifecycle read them (src/http/graphqlParams.ts, as the runtime's own parsers would have): what
 * was priced is what runs, and the body is parsed once. Yoga validates them as it does its own.
 */
export function useParsedParams(): GatewayPlugin {
  return {
    onRequestParse({ serverContext, setRequestParser }) {
      const params = (serverContext as unknown as Record<string, unknown> | undefined)?.[graphqlParamsField];
      if (params !== undefined) setRequestParser(() => params as never);
    },
  };
}

/** What the lifecycle wants told of each operation the runtime executes for one request. */
export interface CostReport {
  /**
   * An operation executed with `variables` and returned `data` with `errors` errors; answers
   * what goes in the result's `extensions.cost`, or undefined for nothing.
   */
  executed(
    document: DocumentNode,
    operationName: string | null | undefined,
    variables: Readonly<Record<string, unknown>> | null | undefined,
    data: unknown,
    errors: number,
  ): Record<string, unknown> | undefined;
}

/**
 * The runtime plugin that tells a request's `CostReport` (when the lifecycle gave one) of each
 * operation it executes, with the data before it is serialized, and adds what the report answers
 * as `extensions.cost`. A streamed result (`@defer`, subscriptions) is not reported: its data
 * arrives in parts after the response has started.
 */
export function useCostReport(): GatewayPlugin {
  return {
    onExecute({ args }) {
      const report = (args.contextValue as Record<string, unknown> | undefined)?.[costReportField] as CostReport | undefined;
      if (!report) return;
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result)) return;
          const single = result as ExecutionResult;
          const cost = report.executed(args.document, args.operationName, args.variableValues, single.data, single.errors?.length ?? 0);
          if (cost) setResult({ ...single, extensions: { ...single.extensions, cost } });
        },
      };
    },
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
