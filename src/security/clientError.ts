import type { Duplex } from 'node:stream';
import { errorBody } from '../http/errors.js';

/** What Node's HTTP parser could not accept, by error code: status, reason phrase, code, message. */
const answers: Record<string, [number, string, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'HEADERS_TOO_LARGE', 'Request headers (or URL) too large.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'REQUEST_TIMEOUT', 'The request did not arrive in time.'],
};
const malformed: [number, string, string, string] = [400, 'Bad Request', 'BAD_REQUEST', 'Malformed HTTP request.'];

/**
 * Node's `clientError` handler: a request Node's parser refuses (malformed, headers over 16 KiB,
 * too slow) never reaches the lifecycle, and Node would answer it with an empty body. This
 * answers in the one error shape instead, then closes the connection. No CORS headers: the
 * request's Origin was never parsed.
 *
 * @example server.on('clientError', answerClientError)
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, reason, code, message] = answers[error.code ?? ''] ?? malformed;
  const requestId = crypto.randomUUID();
  const body = JSON.stringify(errorBody(message, code, requestId));
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
}
