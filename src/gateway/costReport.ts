import type { DocumentNode, ExecutionResult } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';

/**
 * Where the lifecycle hands the runtime what to do with an executed operation's result: a field
 * of the server context, which the GraphQL context carries (as `requestIdField` does).
 */
export const costReportField = 'tollgateCostReport';

/** What the lifecycle wants told of each operation the runtime executes for one request. */
export interface CostReport {
  /**
   * An operation executed with `variables` and returned `data`; answers what goes in the
   * result's `extensions.cost`, or undefined for nothing.
   */
  executed(
    document: DocumentNode,
    operationName: string | null | undefined,
    variables: Readonly<Record<string, unknown>> | null | undefined,
    data: unknown,
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
          const cost = report.executed(args.document, args.operationName, args.variableValues, single.data);
          if (cost) setResult({ ...single, extensions: { ...single.extensions, cost } });
        },
      };
    },
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
