import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { getOperationAST, type DocumentNode } from 'graphql';

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
  /** Hands over (and forgets) what was recorded for this request (the one the runtime handled). */
  take(request: Request | undefined): RequestDetails | undefined;
}

export interface RequestTrackerOptions {
  /** Called for every subgraph call (metrics). */
  readonly onSubgraphCall?: (call: SubgraphCall) => void;
  /** A monotonic clock in milliseconds. */
  readonly now?: () => number;
}

/** Operation names are client-chosen: cut to this length in logs and labels. */
const maxOperationNameLength = 100;

/**
 * Records, per request, what the gateway runtime executed: the operation name (from
 * `onExecute`/`onSubscribe`, so only documents that parsed and validated) and each subgraph call
 * with its outcome (from `onSubgraphExecute`). The lifecycle's observer takes the record when
 * the request ends. Records are kept against the request object the runtime handled (its
 * context's `request`), in a `WeakMap`: never against a value the client chose such as its
 * `X-Request-Id` (two requests sending the same id would share one record), and a request whose
 * record is never taken leaves nothing behind.
 *
 * @example
 * const tracker = createRequestTracker({ onSubgraphCall: (call) => metrics.subgraphCall(call) });
 * createTollgate(config, { ..., plugins: () => [tracker.plugin], observe: (e) => tracker.take(e.runtimeRequest) });
 */
export function createRequestTracker(options: RequestTrackerOptions = {}): RequestTracker {
  const now = options.now ?? (() => performance.now());
  const pending = new WeakMap<
    object,
    { operation: string | undefined; subgraphCalls: Record<string, number>; subgraphErrors: Record<string, number> }
  >();

  function recordFor(request: object) {
    let record = pending.get(request);
    if (!record) {
      record = { operation: undefined, subgraphCalls: {}, subgraphErrors: {} };
      pending.set(request, record);
    }
    return record;
  }

  function operationExecuted(document: DocumentNode, operationName: string | null | undefined, context: unknown): void {
    const request = requestInContext(context);
    if (request === undefined) return;
    const operation = getOperationAST(document, operationName ?? undefined);
    recordFor(request).operation = (operation?.name?.value ?? '(anonymous)').slice(0, maxOperationNameLength);
  }

  function subgraphCalled(request: object | undefined, subgraph: string, started: number, failed: boolean): void {
    if (request !== undefined) {
      const record = recordFor(request);
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
      const request = requestInContext(executionRequest.context);
      setExecutor(async (subgraphRequest) => {
        const started = now();
        try {
          const result = await executor(subgraphRequest);
          const failed = !isAsyncIterable(result) && (result.errors?.length ?? 0) > 0;
          subgraphCalled(request, subgraphName, started, failed);
          return result;
        } catch (error) {
          subgraphCalled(request, subgraphName, started, true);
          throw error;
        }
      });
    },
  };

  return {
    plugin,
    take(request) {
      if (request === undefined) return undefined;
      const record = pending.get(request);
      pending.delete(request);
      return record;
    },
  };
}

/** The request a GraphQL context belongs to: the one the lifecycle handed the runtime. */
function requestInContext(context: unknown): object | undefined {
  const request = (context as { request?: unknown } | undefined)?.request;
  return typeof request === 'object' && request !== null ? request : undefined;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
