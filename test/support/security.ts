import assert from 'node:assert/strict';
import { parseConfig, type Config } from '../../src/config.js';
import type { Handler } from '../../src/lifecycle/handle.js';
import { createLogger } from '../../src/log.js';
import { startNodeServer, type NodeServer } from '../../src/node/server.js';
import { MemoryStore } from '../../src/ratelimit/memoryStore.js';
import type { RateLimitStore } from '../../src/ratelimit/store.js';
import { createTollgate, type Tollgate } from '../../src/tollgate.js';

/** The body of an error response in Tollgate's one shape, checked. */
export interface ErrorShape {
  errors: { message: string; extensions: { code: string; requestId: string; [key: string]: unknown } }[];
  [key: string]: unknown;
}

/**
 * Checks that `response` is an error in the one shape (JSON, every error with a message, a code
 * and the response's request id) with the given status and first code, and CORS headers for
 * `origin` (`*` when the gateway allows any origin). Returns the parsed body.
 */
export async function assertErrorShape(
  response: Response,
  expected: { status: number; code?: string | RegExp; origin?: string },
): Promise<ErrorShape> {
  const text = await response.text();
  assert.equal(response.status, expected.status, text);
  assert.match(response.headers.get('content-type') ?? '', /json/, 'JSON content type');
  const body = JSON.parse(text) as ErrorShape;
  assertShape(body, response.headers.get('x-request-id'));
  if (expected.code !== undefined) {
    const code = body.errors[0]!.extensions.code;
    if (typeof expected.code === 'string') assert.equal(code, expected.code, text);
    else assert.match(code, expected.code, text);
  }
  assert.equal(response.headers.get('access-control-allow-origin'), expected.origin ?? '*', 'CORS header');
  return body;
}

/** The one error shape, on a parsed body: a non-empty `errors`, each with message, code, requestId. */
export function assertShape(body: unknown, requestId: string | null): asserts body is ErrorShape {
  assert.ok(typeof body === 'object' && body !== null, 'an object');
  const errors = (body as { errors?: unknown }).errors;
  assert.ok(Array.isArray(errors) && errors.length > 0, `errors: ${JSON.stringify(body)}`);
  for (const error of errors as ErrorShape['errors']) {
    assert.equal(typeof error.message, 'string', JSON.stringify(error));
    assert.equal(typeof error.extensions?.code, 'string', JSON.stringify(error));
    if (requestId !== null) assert.equal(error.extensions.requestId, requestId, JSON.stringify(error));
  }
}

/** A gateway on Node over a supergraph of the test's choosing, its log lines kept as text. */
export interface CustomGateway {
  readonly url: string;
  readonly config: Config;
  readonly tollgate: Tollgate;
  /** Every line the gateway logged, as written. */
  readonly lines: string[];
  close(): Promise<void>;
}

export async function startCustomGateway(
  supergraphSdl: string,
  env: Record<string, string>,
  options: { store?: RateLimitStore; spy?: (request: Request) => void } = {},
): Promise<CustomGateway> {
  const config = parseConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env }, 'node');
  const lines: string[] = [];
  const log = createLogger(config.logLevel, (line) => lines.push(line));
  const tollgate = createTollgate(config, { supergraphSdl, store: options.store ?? new MemoryStore(), log });
  const spy = options.spy;
  const handler: Handler = spy
    ? (request, ctx) => {
        spy(request);
        return tollgate.handler(request, ctx);
      }
    : tollgate.handler;
  const server: NodeServer = await startNodeServer({ handler, port: 0, host: '127.0.0.1', log });
  return {
    url: server.url,
    config,
    tollgate,
    lines,
    async close() {
      await server.close();
      await tollgate.close();
    },
  };
}
