/**
 * Workers' stale-while-revalidate: whether a request should start a background refresh of the
 * cached supergraph. Due when the last refresh started at least `ttlMs` ago and none is running.
 * Pure: the clock's reading is passed in.
 *
 * @example refreshDue({ lastStartedAt: 0, running: false }, 60_000, 60_000) // true
 */
export function refreshDue(refresh: { readonly lastStartedAt: number; readonly running: boolean }, now: number, ttlMs: number): boolean {
  return !refresh.running && now - refresh.lastStartedAt >= ttlMs;
}
