import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { getOperationAST, type DocumentNode } from 'graphql';
import { requestIdInContext } from '../http/requestId.js';

/** What the runtime saw of one request: its operation and its subgraph calls. */
export interface RequestDetails {
  /** The executed operation's name, `(anonymous)` for an unnamed one; unset when nothing was executed. */
  readonly operation: string | undefined;
  /** Calls per subgraph. */
  readonly subgraphCalls: Readonly<Record<string, number>>;
  /** Calls per subgraph that failed or answered with GraphQL errors. */
  readonly subgraphErrors: Readonly<Record<string, number>>;
}

/** One call from the gateway to a subgraph. */
export interface SubgraphCall {
  readonly subgraph: string;
  readonly durationMs: number;
  /** The call threw, or its result carried GraphQL errors. */
  readonly failed: boolean;
}

export interface RequestTracker {
  /** The runtime plugin that records operations and subgraph calls; one per runtime is fine. */
  readonly plugin: GatewayPlugin;
  /** Hands over (and forgets) what was recorded for the request with this id. */
  take(requestId: string): RequestDetails | undefined;
}

export interface RequestTrackerOptions {
  /** Called for every subgraph call (metrics). */
  readonly onSubgraphCall?: (call: SubgraphCall) => void;
  /** Most requests remembered at once; the oldest is dropped past it. Default 10 000. */
  readonly maxPending?: number;
  /** A monotonic clock in milliseconds. */
  readonly now?: () => number;
}

/** Operation names are client-chosen: cut to this length in logs and labels. */
const maxOperationNameLength = 100;

/**
 * Records, per request id, what the gateway runtime executed: the operation name (from
 * `onExecute`/`onSubscribe`, so only documents that parsed and validated) and each subgraph call
 * with its outcome (from `onSubgraphExecute`). The lifecycle's observer takes the record when
 * the request ends. The request id is the `X-Request-Id` the lifecycle put on the request.
 *
 * @example
 * const tracker = createRequestTracker({ onSubgraphCall: (call) => metrics.subgraphCall(call) });
 * createTollgate(config, { ..., plugins: () => [tracker.plugin], observe: (e) => tracker.take(e.requestId) });
 */
export function createRequestTracker(options: RequestTrackerOptions = {}): RequestTracker {
  const maxPending = options.maxPending ?? 10_000;
  const now = options.now ?? (() => performance.now());
  const pending = new Map<string, { operation: string | undefined; subgraphCalls: Record<string, number>; subgraphErrors: Record<string, number> }>();

  function recordFor(requestId: string) {
    let record = pending.get(requestId);
    if (!record) {
      if (pending.size >= maxPending) {
        const oldest = pending.keys().next();
        if (!oldest.done) pending.delete(oldest.value);
      }
      record = { operation: undefined, subgraphCalls: {}, subgraphErrors: {} };
      pending.set(requestId, record);
    }
    return record;
  }

  function operationExecuted(document: DocumentNode, operationName: string | null | undefined, context: unknown): void {
    const requestId = requestIdInContext(context);
    if (requestId === undefined) return;
    const operation = getOperationAST(document, operationName ?? undefined);
    recordFor(requestId).operation = (operation?.name?.value ?? '(anonymous)').slice(0, maxOperationNameLength);
  }

  function subgraphCalled(requestId: string | undefined, subgraph: string, started: number, failed: boolean): void {
    if (requestId !== undefined) {
      const record = recordFor(requestId);
      record.subgraphCalls[subgraph] = (record.subgraphCalls[subgraph] ?? 0) + 1;
      if (failed) record.subgraphErrors[subgraph] = (record.subgraphErrors[subgraph] ?? 0) + 1;
    }
    options.onSubgraphCall?.({ subgraph, durationMs: now() - started, failed });
  }

  const plugin: GatewayPlugin = {
    onExecute({ args }) {
      operationExecuted(args.document, args.operationName, args.contextValue);
    },
    onSubscribe({ args }) {
      operationExecuted(args.document, args.operationName, args.contextValue);
    },
    onSubgraphExecute({ subgraphName, executionRequest, executor, setExecutor }) {
      const requestId = requestIdInContext(executionRequest.context);
      setExecutor(async (request) => {
        const started = now();
        try {
          const result = await executor(request);
          const failed = !isAsyncIterable(result) && (result.errors?.length ?? 0) > 0;
          subgraphCalled(requestId, subgraphName, started, failed);
          return result;
        } catch (error) {
          subgraphCalled(requestId, subgraphName, started, true);
          throw error;
        }
      });
    },
  };

  return {
    plugin,
    take(requestId) {
      const record = pending.get(requestId);
      pending.delete(requestId);
      return record;
    },
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
