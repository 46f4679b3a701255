import type { CostReport } from '../gateway/costReport.js';
import type { Identity } from '../identity/identity.js';
import { disabled, type RateLimitResult } from '../ratelimit/result.js';

/** What the platform lends one request: Workers' ExecutionContext, or the Node adapter's. */
export interface PlatformContext {
  /** Keeps work going after the response (disposal, closing connections). */
  waitUntil(promise: Promise<unknown>): void;
  /** The connection's remote address (Node). Workers leave it undefined. */
  readonly clientAddress?: string;
  /**
   * Node's incoming message, handed on to the runtime as `req` in its server context, as its own
   * Node adapter does: the runtime then reads the request's headers from it instead of wrapping
   * the Request's headers in a proxy for every request. Workers leave it undefined.
   */
  readonly req?: { readonly headers: Readonly<Record<string, string | string[] | undefined>> };
}

/** An operation the cost step refuses: the status, code, message and extensions of its answer. */
export interface CostRefusal {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly extensions: Record<string, unknown>;
}

/**
 * Everything the lifecycle knows about one request, on one object that every step reads and
 * writes (never loose variables, never a map keyed by something the client chose). Each field
 * says which step sets it.
 */
export class RequestContext {
  /** The request id (the client's own `X-Request-Id` if sane, else a new UUID): request id and timing. */
  requestId = '';
  /** When handling started, on the lifecycle's monotonic clock: request id and timing. */
  started = 0;
  /** Exempt routes: the path is never rate limited. */
  exempt = false;
  /**
   * The key the rate limit counts under; undefined when not rate limited. Client identity sets the
   * address key; identity replaces it with the identity's store key.
   */
  clientKey: string | undefined = undefined;
  /** Client identity: the client's address key (`203.0.113.9`, `2001:db8:0:1::/64`), kept when identity replaces `clientKey`. */
  address: string | undefined = undefined;
  /** Identity: who is asking (source, id, tier); undefined when not decided (exempt, not rate limited). */
  identity: Identity | undefined = undefined;
  /** Identity: a valid token or key is required (`JWT_REQUIRED`, `API_KEY_REQUIRED`) and none came. */
  credentialMissing = false;
  /** Operation cost: the operation's estimated cost (a batch's: the sum of its operations'); undefined when not priced (src/cost/). */
  cost: number | undefined = undefined;
  /** Operation cost: the operations priced (more than one in a batch). */
  operations = 0;
  /** Operation cost: the request is a batch (a JSON array), however many of its entries were priced. */
  batch = false;
  /**
   * Operation cost: the GraphQL parameters read from the body (src/http/graphqlParams.ts), which
   * the runtime executes instead of reading the body again; undefined: the runtime reads the request.
   */
  graphqlParams: unknown = undefined;
  /** Operation cost: why the operation is to be refused (answered by the cost ceiling, after the rate limit). */
  costRefusal: CostRefusal | undefined = undefined;
  /** Rate limit: the one result (src/ratelimit/result.ts); `disabled` until the step decides. */
  rateLimit: RateLimitResult = disabled;
  /** Rate limit: when it was decided, on the lifecycle's monotonic clock. */
  rateLimitAt = 0;
  /** Cost report: what the runtime tells of each operation it executes (src/gateway/costReport.ts). */
  costReport: CostReport | undefined = undefined;
  /** Cost report: the executed operations' actual cost; undefined when not known (nothing executed, or not priced). */
  actualCost: number | undefined = undefined;
  /** Body bound: the request the gateway reads (the request itself, or a copy with a bounded body). */
  body: Request | undefined = undefined;
  /** Gateway: the request the runtime handled (what its GraphQL context's `request` is). */
  runtimeRequest: Request | undefined = undefined;
  /**
   * The answer, set by the step that answers (or by the error shape). After a step's `next()`
   * resolves it is always set.
   */
  response!: Response;
  /** Milliseconds in the rate-limit decision, in the gateway, and in the whole lifecycle. */
  rateLimitMs = 0;
  gatewayMs = 0;
  totalMs = 0;

  constructor(
    readonly request: Request,
    readonly platform: PlatformContext,
    /** The request's path: what routes and the log line go by. */
    readonly path: string,
  ) {}
}
