import { errorBody, jsonResponse } from '../http/errors.js';
import { limitCodes } from './limits.js';

/**
 * The request with a body of at most `maxBytes`, or the error response: 413 when
 * `Content-Length` says more (decided before reading anything) or when a body of unknown length
 * (chunked) grows past the limit while it is read (reading then stops), 400 when it cannot be
 * read. Never buffers more than `maxBytes` plus one chunk, whatever the client sends.
 *
 * A body with a `Content-Length` within the limit is passed on unread: Node's HTTP parser and
 * Workers deliver exactly that many bytes (the framing is the platform's), so only chunked
 * bodies cost a copy here.
 *
 * @example
 * const bounded = await boundBody(request, 102_400, requestId);
 * if (bounded instanceof Response) return bounded; // 413 PAYLOAD_TOO_LARGE
 */
export async function boundBody(request: Request, maxBytes: number, requestId: string): Promise<Request | Response> {
  // Headers first: on Node, touching `request.body` wraps the socket in a web stream (and the
  // runtime then reads it through that instead of its faster Node-stream path).
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\s*\d+\s*$/.test(declared)) {
    return Number(declared) > maxBytes ? tooLarge(maxBytes, requestId) : request;
  }
  if (request.method === 'GET' || request.method === 'HEAD' || request.body === null) return request;

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        // Stop reading; the rest is left to the platform (Node closes the connection, below).
        reader.releaseLock();
        return tooLarge(maxBytes, requestId);
      }
      chunks.push(value);
    }
  } catch {
    return jsonResponse(400, errorBody('The request body could not be read.', 'BAD_REQUEST', requestId));
  }

  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return withBody(request, body);
}

/**
 * `request` again with `body` (one already read): its method, headers, signal and, on Workers,
 * `cf` (Cloudflare's request metadata: the runtime's HTTP executor reads it to know it runs on
 * Workers, where sharing an AbortController between requests is an error).
 */
export function withBody(request: Request, body: BodyInit): Request {
  const { cf } = request as Request & { cf?: unknown };
  const init = { method: request.method, headers: request.headers, body, signal: request.signal, ...(cf === undefined ? {} : { cf }) };
  return new Request(request.url, init as RequestInit);
}

/**
 * 413 in the error shape. `Connection: close` tells Node's server to close the connection after
 * the answer instead of reading and discarding the rest of the body.
 */
function tooLarge(maxBytes: number, requestId: string): Response {
  return jsonResponse(413, errorBody(`Request body too large: the limit is ${maxBytes} bytes.`, limitCodes.body, requestId, { maxBytes }), {
    Connection: 'close',
  });
}
