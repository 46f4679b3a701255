import { isUrl, type Config } from '../config.js';
import { fetchSupergraphUrl, hiveCdnSupergraphUrl, type SourceRead } from './fetchUrl.js';
import { defaultUplink, fetchFromUplink } from './uplink.js';

/** Where the supergraph comes from, as configured: a file, a URL, Hive CDN or GraphOS (undefined: the demo). */
export type SupergraphLocation =
  | {
      readonly kind: 'graphos';
      readonly variable: 'APOLLO_GRAPH_REF';
      readonly value: string;
      readonly url: string;
      readonly apiKey: string;
    }
  | { readonly kind: 'file'; readonly variable: 'SUPERGRAPH'; readonly value: string; readonly path: string }
  | {
      readonly kind: 'url' | 'hive-cdn';
      readonly variable: 'SUPERGRAPH' | 'HIVE_CDN_ENDPOINT';
      readonly value: string;
      readonly url: string;
      readonly headers: Readonly<Record<string, string>>;
    };

export function supergraphLocation(config: Config): SupergraphLocation | undefined {
  const graphos = config.supergraphSource.graphos;
  if (graphos !== undefined) {
    return {
      kind: 'graphos',
      variable: 'APOLLO_GRAPH_REF',
      value: graphos.graphRef,
      url: graphos.endpoint ?? defaultUplink,
      apiKey: graphos.apiKey,
    };
  }
  const hive = config.supergraphSource.hiveCdn;
  if (hive !== undefined) {
    return {
      kind: 'hive-cdn',
      variable: 'HIVE_CDN_ENDPOINT',
      value: hive.endpoint,
      url: hiveCdnSupergraphUrl(hive.endpoint),
      headers: { 'x-hive-cdn-key': hive.key },
    };
  }
  const source = config.supergraph;
  if (source === undefined) return undefined;
  if (isUrl(source)) return { kind: 'url', variable: 'SUPERGRAPH', value: source, url: source, headers: {} };
  return { kind: 'file', variable: 'SUPERGRAPH', value: source, path: source };
}

/** One read of a URL, Hive CDN or GraphOS location, with the `SUPERGRAPH_*` bounds and the ETag of the text served. */
export function readRemote(
  location: Extract<SupergraphLocation, { url: string }>,
  settings: Config['supergraphSource'],
  etag: string | undefined,
): Promise<SourceRead> {
  if (location.kind === 'graphos') {
    const { url: endpoint, apiKey, value: graphRef } = location;
    return fetchFromUplink({ endpoint, apiKey, graphRef, lastSeenId: etag, maxBytes: settings.maxBytes, timeoutMs: settings.timeoutMs });
  }
  return fetchSupergraphUrl({
    url: location.url,
    headers: location.headers,
    // Hive CDN authenticates with its key; SUPERGRAPH_AUTHORIZATION is for a plain URL.
    authorization: location.kind === 'url' ? settings.authorization : undefined,
    maxBytes: settings.maxBytes,
    timeoutMs: settings.timeoutMs,
    etag,
  });
}
