import { errorBody, jsonResponse } from '../http/errors.js';

/** `extensions.code` for an error status the runtime answered without one. */
const codeByStatus: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  500: 'INTERNAL_SERVER_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

/** The message for an error status the runtime answered with an empty or non-JSON body. */
const messageByStatus: Record<number, string> = {
  404: 'Not found. The GraphQL endpoint is /graphql.',
  405: 'Method not allowed. Use GET or POST.',
  406: 'Not acceptable. Accept application/graphql-response+json or application/json.',
  415: 'Unsupported media type. POST a JSON body with Content-Type: application/json.',
};

export function codeForStatus(status: number): string {
  return codeByStatus[status] ?? (status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST');
}

/**
 * An error response from the runtime (status 400 or more) in Tollgate's one error shape:
 * every error has a string `message` and `extensions.code` and `extensions.requestId`; an empty
 * or non-JSON body (the runtime's 404 and 415) becomes one such error. Statuses and headers are
 * kept, and a JSON media type. An error the runtime wrote as an event stream or multipart body
 * (because the client accepted only those) becomes plain JSON: an error is not a stream.
 *
 * @example response = await inErrorShape(response, requestId) // when response.status >= 400
 */
export async function inErrorShape(response: Response, requestId: string): Promise<Response> {
  const type = response.headers.get('content-type') ?? '';
  const streamed = /event-stream|multipart/i.test(type);
  let parsed: unknown;
  try {
    if (streamed) parsed = firstJsonResult(await boundedText(response, 65_536));
    else if (/json/i.test(type)) parsed = JSON.parse(await response.text());
    else await response.body?.cancel();
  } catch {
    parsed = undefined;
  }
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  headers.delete('content-type');
  const code = codeForStatus(response.status);

  const errors = isRecord(parsed) && Array.isArray(parsed['errors']) ? (parsed['errors'] as unknown[]) : undefined;
  if (!isRecord(parsed) || !errors || errors.length === 0) {
    const message = messageByStatus[response.status] ?? (response.statusText || defaultMessage(response.status));
    return jsonResponse(response.status, errorBody(message, code, requestId), headers);
  }
  const shaped = errors.map((error) => {
    const record = isRecord(error) ? error : {};
    const extensions = isRecord(record['extensions']) ? record['extensions'] : {};
    return {
      ...record,
      message: typeof record['message'] === 'string' ? record['message'] : defaultMessage(response.status),
      extensions: { ...extensions, code: typeof extensions['code'] === 'string' ? extensions['code'] : code, requestId },
    };
  });
  const shapedResponse = jsonResponse(response.status, { ...parsed, errors: shaped }, headers);
  // Keep the JSON media type the runtime chose (application/graphql-response+json or application/json).
  if (!streamed) shapedResponse.headers.set('Content-Type', type);
  return shapedResponse;
}

/** The first JSON object on a line of an event stream (`data: {…}`) or multipart body. */
function firstJsonResult(text: string): unknown {
  for (const line of text.split(/\r?\n/)) {
    const json = line.replace(/^data:\s*/, '');
    if (!json.startsWith('{')) continue;
    try {
      return JSON.parse(json);
    } catch {
      // Not a whole JSON line; keep looking.
    }
  }
  return undefined;
}

/** At most `maxBytes` of a body as text; the rest is cancelled. */
async function boundedText(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    text += decoder.decode(value, { stream: true });
    if (size >= maxBytes) {
      await reader.cancel();
      break;
    }
  }
  return text;
}

function defaultMessage(status: number): string {
  return status >= 500 ? 'Unexpected error.' : 'Bad request.';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
