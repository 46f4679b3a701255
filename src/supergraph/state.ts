/**
 * The served supergraph's state and what changes it, as pure functions of the previous state and
 * the clock's reading (milliseconds since the epoch): what `/readiness`, the metrics and the log
 * lines report. No I/O here (src/supergraph/reloader.ts does it).
 */
export interface SupergraphState {
  /** The served version (src/supergraph/version.ts); undefined while no graph was ever loaded. */
  readonly version: string | undefined;
  /** When the served version was loaded. */
  readonly loadedAt: number | undefined;
  /** The last read of the source: a new graph, an unchanged one (ok) or a failure. */
  readonly lastUpdate: { readonly ok: boolean; readonly at: number; readonly error?: string } | undefined;
  /** Versions loaded (the first included) and updates that failed, since start. */
  readonly loads: number;
  readonly failures: number;
  /** The failure last logged: the same failure again is counted, not logged again. */
  readonly loggedFailure: string | undefined;
}

/** The `supergraph` member of `/readiness`. */
export interface SupergraphReport {
  readonly version: string | null;
  readonly loadedAt: string | null;
  readonly lastUpdate: { readonly ok: boolean; readonly at: string; readonly error?: string } | null;
}

export const initialSupergraphState: SupergraphState = {
  version: undefined,
  loadedAt: undefined,
  lastUpdate: undefined,
  loads: 0,
  failures: 0,
  loggedFailure: undefined,
};

/** A new version is served from `now`. */
export function supergraphLoaded(state: SupergraphState, version: string, now: number): SupergraphState {
  return { ...state, version, loadedAt: now, lastUpdate: { ok: true, at: now }, loads: state.loads + 1, loggedFailure: undefined };
}

/** The source answered with what is already served. */
export function supergraphUnchanged(state: SupergraphState, now: number): SupergraphState {
  return { ...state, lastUpdate: { ok: true, at: now }, loggedFailure: undefined };
}

/** An update failed; the served version stays. `log` is false for a repeat of the failure last logged. */
export function supergraphFailed(state: SupergraphState, error: string, now: number): { state: SupergraphState; log: boolean } {
  const log = error !== state.loggedFailure;
  return {
    state: { ...state, lastUpdate: { ok: false, at: now, error }, failures: state.failures + 1, loggedFailure: error },
    log,
  };
}

export function supergraphReport(state: SupergraphState): SupergraphReport {
  const update = state.lastUpdate;
  return {
    version: state.version ?? null,
    loadedAt: state.loadedAt === undefined ? null : new Date(state.loadedAt).toISOString(),
    lastUpdate: update
      ? { ok: update.ok, at: new Date(update.at).toISOString(), ...(update.error !== undefined ? { error: update.error } : {}) }
      : null,
  };
}

/**
 * `/readiness`: 503 only with no graph; 200 while serving, `degraded` when the store is failing or
 * the last update of the supergraph failed (the last good graph is served).
 */
export function readinessOf(state: SupergraphState, storeOk: boolean): { httpStatus: 200 | 503; status: 'ready' | 'degraded' } {
  if (state.version === undefined) return { httpStatus: 503, status: 'degraded' };
  const updateOk = state.lastUpdate?.ok ?? true;
  return { httpStatus: 200, status: storeOk && updateOk ? 'ready' : 'degraded' };
}
