import type { Logger } from '../log.js';
import type { SourceRead } from './fetchUrl.js';
import { initialSupergraphState, supergraphFailed, supergraphLoaded, supergraphUnchanged, type SupergraphState } from './state.js';
import { supergraphVersion } from './version.js';

export interface ReloaderDeps {
  /** One read of the source; `etag` is the one of the text served (for `If-None-Match`). */
  readonly read: (etag: string | undefined) => Promise<SourceRead>;
  /** Why a text is not a servable supergraph (src/supergraph/check.ts plus the platform's own rules), or undefined. */
  readonly check: (sdl: string) => string | undefined;
  /** Loads a checked text into the gateway; throws when the runtime refuses it (the served one stays). */
  readonly swap: (sdl: string) => Promise<void>;
  readonly log: Logger;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** A graph already served (the demo's, or one given at construction): its text. */
  readonly initial?: string;
  /**
   * A run that has made no progress for this long is taken as lost, and the next `refresh()` starts
   * another. In workerd a read started by a request that was then cancelled never settles: without
   * this bound, no later read would start. Longer than the read's own deadline. Unset: never.
   */
  readonly lostAfterMs?: number;
}

export interface SupergraphReloader {
  /**
   * Reads the source once and swaps in a new good supergraph. One read at a time: a call while one
   * runs waits for it and for one more read after it (the change that caused the call is seen).
   * No read sooner than the last read's `minDelayMs` asked (GraphOS Uplink's `minDelaySeconds`): a
   * call before then does nothing. Never throws: failures are in the state, logged once per
   * distinct failure and counted.
   */
  refresh(): Promise<void>;
  /** Whether a run is under way (one taken as lost is not). */
  reading(): boolean;
  state(): SupergraphState;
}

/**
 * Keeps the last good supergraph: a new text is checked, then loaded by the runtime; any failure
 * on the way (unreachable, HTTP error, HTML, over the size bound, deadline, invalid SDL, refused by
 * the runtime) leaves the served graph as it was. A refused version is not offered to the runtime
 * again (it failed already) until another one was served. What a run taken as lost does if it ever
 * resumes changes nothing.
 */
export function createSupergraphReloader(deps: ReloaderDeps): SupergraphReloader {
  const { log, now } = deps;
  let state: SupergraphState =
    deps.initial === undefined ? initialSupergraphState : supergraphLoaded(initialSupergraphState, supergraphVersion(deps.initial), now());
  let etag: string | undefined;
  let refused: { version: string; error: string } | undefined;
  // The run under way: its promise, and when it last made progress (started, read, swapped).
  let run: { readonly promise: Promise<void>; progressAt: number } | undefined;
  let again = false;
  const live = (candidate: typeof run): candidate is NonNullable<typeof run> =>
    candidate !== undefined && (deps.lostAfterMs === undefined || now() - candidate.progressAt < deps.lostAfterMs);
  // The source's own pause: no read before this time (milliseconds since the epoch).
  let notBefore = Number.NEGATIVE_INFINITY;
  const paused = (): boolean => notBefore > Number.NEGATIVE_INFINITY && now() < notBefore;

  const fail = (error: string): void => {
    const next = supergraphFailed(state, error, now());
    state = next.state;
    if (next.log) log.warn('supergraph update failed: the last good supergraph is kept', { version: state.version ?? null, error });
  };

  /**
   * One read and what follows from it. `current()` is false once another run replaced this one (it
   * was taken as lost): from then on it changes nothing here. A swap it had already begun may still
   * complete in the runtime; the runtime takes one swap at a time, so the replacing run's, begun
   * later from a later read, lands after it.
   */
  async function once(current: () => boolean, progress: () => void): Promise<void> {
    let read: SourceRead;
    try {
      read = await deps.read(etag);
    } catch (error) {
      if (current()) fail(error instanceof Error ? error.message : String(error));
      return;
    }
    if (!current()) return;
    progress();
    if (read.minDelayMs !== undefined) notBefore = now() + read.minDelayMs;
    if (read.kind === 'unchanged') {
      state = supergraphUnchanged(state, now());
      return;
    }
    const version = supergraphVersion(read.sdl);
    if (version === state.version) {
      etag = read.etag;
      state = supergraphUnchanged(state, now());
      return;
    }
    if (refused?.version === version) return fail(refused.error);
    const problem = deps.check(read.sdl);
    if (problem !== undefined) {
      refused = { version, error: problem };
      return fail(problem);
    }
    try {
      await deps.swap(read.sdl);
    } catch (error) {
      if (!current()) return;
      refused = { version, error: `the gateway runtime refused it: ${error instanceof Error ? error.message : String(error)}` };
      return fail(refused.error);
    }
    if (!current()) return;
    const previous = state.version ?? null;
    etag = read.etag;
    refused = undefined;
    state = supergraphLoaded(state, version, now());
    log.info('supergraph loaded', { version, previous });
  }

  return {
    refresh() {
      if (live(run)) {
        again = true;
        return run.promise;
      }
      if (paused()) return Promise.resolve();
      again = false;
      const mine = { promise: Promise.resolve(), progressAt: now() };
      const current = () => run === mine;
      const progress = () => void (mine.progressAt = now());
      run = mine;
      mine.promise = (async () => {
        do {
          again = false;
          progress();
          await once(current, progress);
        } while (again && current() && !paused());
      })().finally(() => {
        if (current()) run = undefined;
      });
      return mine.promise;
    },
    reading: () => live(run),
    state: () => state,
  };
}
