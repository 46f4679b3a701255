import { describeFetchError, readBounded, type SourceRead } from './fetchUrl.js';

/** Apollo's Uplink endpoints (the first is used unless `APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT` says otherwise). */
export const defaultUplink = 'https://uplink.api.apollographql.com/';

/** The query Apollo Router and the runtime's GraphOS source send: `routerConfig` and its three outcomes. */
export const supergraphSdlQuery = `query SupergraphSdl($apiKey: String!, $ref: String!, $ifAfterId: ID) {
  routerConfig(ref: $ref, apiKey: $apiKey, ifAfterId: $ifAfterId) {
    __typename
    ... on RouterConfigResult { id supergraphSdl: supergraphSDL minDelaySeconds }
    ... on Unchanged { id minDelaySeconds }
    ... on FetchError { code message }
  }
}`;

export interface UplinkOptions {
  readonly endpoint: string;
  readonly apiKey: string;
  readonly graphRef: string;
  /** The `id` of the supergraph served: Uplink answers `Unchanged` while it is current. */
  readonly lastSeenId: string | undefined;
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly fetch?: typeof fetch;
}

type RouterConfig =
  | { __typename: 'RouterConfigResult'; id: string; supergraphSdl: string; minDelaySeconds?: unknown }
  | { __typename: 'Unchanged'; id: string; minDelaySeconds?: unknown }
  | { __typename: 'FetchError'; code: string; message: string };

/**
 * Uplink's `minDelaySeconds` (how long to wait before the next poll, which Apollo Router honours)
 * in milliseconds; undefined when absent or not a non-negative number.
 *
 * @example minDelayOf(30) // 30000
 */
export function minDelayOf(seconds: unknown): number | undefined {
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/**
 * One poll of Apollo GraphOS Uplink: the `SupergraphSdl` query with `ifAfterId`. A new supergraph
 * comes back with its `id` as the ETag of the text; `Unchanged` is `unchanged`; both carry Uplink's
 * `minDelaySeconds` as `minDelayMs`. A `FetchError` (a wrong key, an unknown graph ref, retry
 * later) or a GraphQL error throws with its code and message.
 */
export async function fetchFromUplink(options: UplinkOptions): Promise<SourceRead> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  const doFetch = options.fetch ?? fetch;
  try {
    const response = await doFetch(options.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        query: supergraphSdlQuery,
        variables: { apiKey: options.apiKey, ref: options.graphRef, ifAfterId: options.lastSeenId ?? null },
      }),
      signal,
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`GraphOS Uplink: HTTP ${response.status}`);
    }
    const text = await readBounded(response, options.maxBytes);
    let body: { data?: { routerConfig?: RouterConfig | null } | null; errors?: { message?: string }[] };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error('GraphOS Uplink: the answer is not JSON');
    }
    if (body.errors?.length) throw new Error(`GraphOS Uplink: ${body.errors.map((e) => e.message ?? 'error').join('; ')}`);
    const config = body.data?.routerConfig;
    if (!config) throw new Error('GraphOS Uplink: no routerConfig in the answer');
    if (config.__typename === 'FetchError') throw new Error(`GraphOS Uplink: ${config.code}: ${config.message}`);
    const minDelayMs = minDelayOf(config.minDelaySeconds);
    if (config.__typename === 'Unchanged') return { kind: 'unchanged', minDelayMs };
    return { kind: 'sdl', sdl: config.supergraphSdl, etag: config.id, minDelayMs };
  } catch (error) {
    if (signal.aborted) throw new Error(`GraphOS Uplink: no complete answer within ${options.timeoutMs} ms (SUPERGRAPH_TIMEOUT_MS)`);
    throw new Error(describeFetchError(error));
  }
}
