/**
 * The supergraph with the Hive runtime's upstream deduplication turned off for every subgraph,
 * through the runtime's own `@transport` schema directive (read by Tollgate, the bare runtime and
 * Hive Gateway alike, and by both query planners). Without it, concurrent requests of the one
 * benchmark query send identical subgraph requests, which the runtime merges: the benchmark would
 * measure the merging, which Apollo Gateway does not do, rather than the gateways' work.
 */
export function withoutUpstreamDedupe(supergraphSdl: string, subgraphs: readonly { name: string; url: string }[]): string {
  const transports = subgraphs
    .map(
      ({ name, url }) =>
        `@transport(subgraph: ${JSON.stringify(name)}, kind: "http", location: ${JSON.stringify(url)}, options: { deduplicateInflightRequests: false })`,
    )
    .join(' ');
  let found = false;
  const sdl = supergraphSdl.replace(/^schema (.*)\{$/m, (_line, directives: string) => {
    found = true;
    return `schema ${directives}${transports} {`;
  });
  if (!found) throw new Error('supergraph has no schema definition line to annotate');
  return `${sdl}
directive @transport(subgraph: String!, kind: String!, location: String!, options: TransportOptions) repeatable on SCHEMA

scalar TransportOptions
`;
}
