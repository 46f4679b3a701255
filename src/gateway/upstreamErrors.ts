import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { GraphQLError } from 'graphql';
import { requestIdInContext } from '../http/requestId.js';
import type { Logger } from '../log.js';

/** What a failed subgraph call tells the client, in `extensions.code`. */
export type UpstreamFailureCode = 'SUBGRAPH_UNAVAILABLE' | 'DOWNSTREAM_SERVICE_ERROR' | 'GATEWAY_TIMEOUT';

/** A subgraph call that failed below GraphQL: no connection, no GraphQL answer, or no answer in time. */
export interface UpstreamFailure {
  readonly code: UpstreamFailureCode;
  /** What happened, in one short line (`connect ECONNREFUSED 127.0.0.1:4102`, `HTTP 502`). */
  readonly cause: string;
}

/** One message per code, the same in every environment: the details are in `cause`. */
const messages: Record<UpstreamFailureCode, string> = {
  SUBGRAPH_UNAVAILABLE: 'A subgraph could not be reached.',
  DOWNSTREAM_SERVICE_ERROR: 'A subgraph did not answer with a GraphQL result.',
  GATEWAY_TIMEOUT: 'A subgraph did not answer in time.',
};

/** Causes are log fields and development hints, not documents. */
const maxCauseLength = 200;

/**
 * The failure a subgraph call's error stands for, or undefined for an error the subgraph itself
 * sent in a GraphQL response (a resolver's error), which is not the gateway's to relabel.
 *
 * It reads the codes the HTTP transport (@graphql-tools/executor-http) gives the errors it makes:
 * `SUBREQUEST_HTTP_ERROR` when `fetch` or the body's read failed (refused, reset, DNS, workerd's
 * "Network connection lost."; an abort by a timeout signal carries status 504 or a
 * `TimeoutError`), `RESPONSE_VALIDATION_FAILED` when the answer was not a GraphQL result (not
 * JSON, no `data` nor `errors`, empty), and `GATEWAY_TIMEOUT`, the code of
 * src/gateway/upstreamDeadline.ts (and of the runtime's own `upstreamTimeout`).
 */
export function upstreamFailure(error: unknown): UpstreamFailure | undefined {
  if (!(error instanceof Error)) return undefined;
  const extensions = (error as { extensions?: Record<string, unknown> }).extensions ?? {};
  const original = (error as { originalError?: unknown }).originalError;
  switch (extensions['code']) {
    case 'GATEWAY_TIMEOUT':
    case 'TIMEOUT_ERROR':
      return { code: 'GATEWAY_TIMEOUT', cause: oneLine(error.message) };
    case 'SUBREQUEST_HTTP_ERROR':
      if (isTimeout(original) || httpStatusOf(extensions) === 504) return { code: 'GATEWAY_TIMEOUT', cause: oneLine(error.message) };
      return { code: 'SUBGRAPH_UNAVAILABLE', cause: oneLine(networkCause(original) ?? error.message) };
    case 'RESPONSE_VALIDATION_FAILED':
      return { code: 'DOWNSTREAM_SERVICE_ERROR', cause: answerCause(responseStatusOf(extensions), original) };
    default:
      return undefined;
  }
}

export interface UpstreamErrorOptions {
  readonly development: boolean;
  readonly log: Logger;
}

/**
 * Failed subgraph calls as field errors a client can act on, and one log line each.
 *
 * The transport's own errors wrap the `fetch` error or the subgraph's raw answer, so the runtime
 * masks them as `INTERNAL_SERVER_ERROR` "Unexpected error." and logs them without a message. Here,
 * at the subgraph call (where its name and the transport's error are at hand, before masking),
 * each becomes a GraphQL error of its own (see `upstreamFailure`):
 * `{ message, extensions: { code, requestId } }`, in development with `serviceName` and `cause`
 * too; never the subgraph's URL, its answer or the original error. A timeout keeps status 504 for
 * a response with no data; otherwise the response's status is GraphQL-over-HTTP's (200, with
 * whatever data the other calls gave).
 *
 * Every failed call, and every error a subgraph sends, is logged once per request as
 * `upstream error` (warn) with the request id, the subgraph, the code and the cause.
 *
 * Thrown errors (an executor that rejects the call) are caught around the
 * executor; returned ones are rewritten after the runtime's own subgraph-error hook, which would
 * otherwise add the subgraph's name in production. Results are never changed in place: the
 * transport shares one result between identical in-flight calls of different requests.
 *
 * @example createGatewayRuntime({ …, plugins: () => [useUpstreamErrors({ development, log })] })
 */
export function useUpstreamErrors({ development, log }: UpstreamErrorOptions): GatewayPlugin {
  /** The error the client gets for `error` from `subgraph`, logged: `error` itself unless it is a failure. */
  function report<E>(error: E, subgraph: string, requestId: string | undefined): E | GraphQLError {
    const failure = upstreamFailure(error);
    if (!failure) {
      const { message, extensions, path } = error as { message?: unknown; extensions?: { code?: unknown }; path?: unknown };
      log.warn('upstream error', { requestId, subgraph, code: extensions?.code, cause: String(message ?? error), subgraphPath: path });
      return error;
    }
    const { code, cause } = failure;
    log.warn('upstream error', { requestId, subgraph, code, cause });
    return new GraphQLError(messages[code], {
      extensions: {
        code,
        ...(requestId === undefined ? {} : { requestId }),
        ...(development ? { serviceName: subgraph, cause } : {}),
        // Without data the runtime answers 504, as for its own timeout (dropped with data, see
        // useErrorPolicy in src/security/plugins.ts).
        ...(code === 'GATEWAY_TIMEOUT' ? { http: { status: 504 } } : {}),
      },
    });
  }

  return {
    onSubgraphExecute({ subgraphName, executionRequest, executor, setExecutor }) {
      const requestId = requestIdInContext(executionRequest.context);
      setExecutor(async (request) => {
        try {
          return await executor(request);
        } catch (error) {
          throw report(error, subgraphName, requestId);
        }
      });
      return ({ result, setResult }) => {
        if (Symbol.asyncIterator in result || !result.errors?.length) return;
        let changed = false;
        const errors = result.errors.map((error) => {
          const reported = report(error, subgraphName, requestId);
          changed ||= reported !== error;
          return reported;
        });
        if (changed) setResult({ ...result, errors });
      };
    },
  };
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError';
}

function httpStatusOf(extensions: Record<string, unknown>): unknown {
  const http = extensions['http'];
  return typeof http === 'object' && http !== null ? (http as { status?: unknown }).status : undefined;
}

function responseStatusOf(extensions: Record<string, unknown>): number | undefined {
  const response = extensions['response'];
  const status = typeof response === 'object' && response !== null ? (response as { status?: unknown }).status : undefined;
  return typeof status === 'number' ? status : undefined;
}

/**
 * The network error under `fetch`'s: undici's `TypeError: fetch failed` keeps it as `cause`
 * (`connect ECONNREFUSED …`), and the transport then says `fetch failed to <url>`.
 */
function networkCause(original: unknown): string | undefined {
  if (!(original instanceof Error)) return undefined;
  const cause = (original as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message) return cause.message;
  return original.message || undefined;
}

/** `HTTP 502`, or for a 2xx what was wrong with its body. */
function answerCause(status: number | undefined, original: unknown): string {
  const http = status === undefined ? 'HTTP response' : `HTTP ${status}`;
  if (status !== undefined && (status < 200 || status > 299)) return http;
  const notJson = original instanceof Error && original.name === 'SyntaxError';
  return `${http}: ${notJson ? 'the body is not JSON' : 'not a GraphQL result'}`;
}

function oneLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > maxCauseLength ? `${line.slice(0, maxCauseLength - 1)}…` : line;
}
