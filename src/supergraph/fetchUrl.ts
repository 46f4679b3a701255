/**
 * One read of a supergraph source: a new text, or the same as last time. `minDelayMs`: the source
 * asks not to be read again sooner (GraphOS Uplink's `minDelaySeconds`).
 */
export type SourceRead =
  | { readonly kind: 'unchanged'; readonly minDelayMs?: number | undefined }
  | { readonly kind: 'sdl'; readonly sdl: string; readonly etag?: string | undefined; readonly minDelayMs?: number | undefined };

export interface UrlFetchOptions {
  readonly url: string;
  /** Sent as `Authorization`. */
  readonly authorization?: string | undefined;
  /** Other request headers (Hive CDN's `X-Hive-CDN-Key`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** A larger body is refused; the download stops there. */
  readonly maxBytes: number;
  /** For the whole fetch, headers and body. */
  readonly timeoutMs: number;
  /** The `ETag` of the text last read: sent as `If-None-Match`, a 304 is `unchanged`. */
  readonly etag?: string | undefined;
  readonly fetch?: typeof fetch;
}

/**
 * Fetches a supergraph from an http(s) URL with a deadline, a size bound and `If-None-Match`.
 * Throws an Error whose message says what went wrong (status, size, deadline, HTML, network),
 * never the URL's credentials or the `Authorization` value.
 */
export async function fetchSupergraphUrl(options: UrlFetchOptions): Promise<SourceRead> {
  const { maxBytes, timeoutMs } = options;
  const headers = new Headers({ accept: 'application/graphql, text/plain;q=0.9, */*;q=0.5' });
  for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);
  if (options.authorization !== undefined) headers.set('authorization', options.authorization);
  if (options.etag !== undefined) headers.set('if-none-match', options.etag);
  const signal = AbortSignal.timeout(timeoutMs);
  const doFetch = options.fetch ?? fetch;
  try {
    const response = await doFetch(options.url, { headers, signal, redirect: 'follow' });
    if (response.status === 304) {
      await response.body?.cancel();
      return { kind: 'unchanged' };
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status}`);
    }
    const type = response.headers.get('content-type') ?? '';
    if (/^\s*text\/html/i.test(type)) {
      await response.body?.cancel();
      throw new Error(`an HTML page (content-type ${type}), not a supergraph`);
    }
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      await response.body?.cancel();
      throw new Error(`${declared} bytes, over SUPERGRAPH_MAX_BYTES (${maxBytes})`);
    }
    const sdl = await readBounded(response, maxBytes);
    return { kind: 'sdl', sdl, etag: response.headers.get('etag') ?? undefined };
  } catch (error) {
    if (signal.aborted) throw new Error(`no complete answer within ${timeoutMs} ms (SUPERGRAPH_TIMEOUT_MS)`);
    throw new Error(describeFetchError(error));
  }
}

/** The body as text, refused (and the download stopped) past `maxBytes`. */
export async function readBounded(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new Error(`over SUPERGRAPH_MAX_BYTES (${maxBytes} bytes): download stopped`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}

/** `fetch failed` says little: add the cause's code (ECONNREFUSED, ENOTFOUND, …) when there is one. */
export function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const code = cause && typeof cause === 'object' && 'code' in cause ? String((cause as { code: unknown }).code) : undefined;
  return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}

/**
 * Hive CDN's supergraph artifact: `<endpoint>/supergraph` (unless the endpoint names it already,
 * as the runtime's own Hive source does), read with the `X-Hive-CDN-Key` header and `ETag`.
 *
 * @example hiveCdnSupergraphUrl('https://cdn.graphql-hive.com/artifacts/v1/abc') // '…/abc/supergraph'
 */
export function hiveCdnSupergraphUrl(endpoint: string): string {
  if (/\/supergraph(\.graphql)?$/.test(endpoint)) return endpoint;
  return `${endpoint.replace(/\/+$/, '')}/supergraph`;
}
