import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { GraphQLError } from 'graphql';
import { setMaxListeners } from 'node:events';

/**
 * The subgraph-call deadline (`UPSTREAM_TIMEOUT_MS`), cheap enough for every call.
 *
 * The runtime's own `upstreamTimeout` gives each subgraph call a timer, an `AbortSignal`, a
 * combination of that signal with the executor's (`abortSignalAny`: a controller, weak refs and
 * finalization-registry entries) and a `Promise.race`: about a tenth of a deep query's CPU time
 * with the Rust planner on Node (BENCHMARKS.md, "Where the time goes"), and a few per cent of a
 * Worker's. Here the calls that start within the same short slot share one deadline: one timer and
 * one signal per slot (a hundredth of the timeout, at most 100 ms), which fires `timeoutMs` + one
 * slot after the slot opened, so every call gets at least `timeoutMs` and at most one slot (and a
 * millisecond) more. The signal is given to the subgraph's `fetch`; combined with the executor's
 * own signal (which aborts in-flight calls when the runtime is disposed) once per slot and
 * executor signal, not per call.
 *
 * When it fires, the subgraph's `fetch` is aborted and fails with a GraphQL error
 * `GATEWAY_TIMEOUT` with status 504, as the runtime's own timeout does (the HTTP executor passes
 * GraphQL errors from `fetch` through; `useErrorPolicy` in src/security/plugins.ts drops the 504
 * when the response has data). A subgraph that sends its headers in time and then stalls its
 * body is cut at the same deadline, with the executor's own error for an aborted body.
 *
 * Who shares a slot (`scope`):
 * - `process` (Node): every call of the process, whichever request made it.
 * - `request` (Workers): the calls of one request only (its plan's stages, usually all within one
 *   slot). In workerd an I/O object belongs to the request that made it, so a timer or signal is
 *   never shared between requests; and a request's timers end with it (workerd cancels a
 *   request's pending timers once it has answered), so none is cleared by hand.
 */
interface Slot {
  readonly closesAt: number;
  readonly signal: AbortSignal;
  /** A process slot's signal combined with each executor signal (`combine`); made on first use. */
  combined?: WeakMap<AbortSignal, AbortSignal>;
  /** A request slot's link to each executor signal (`linkTo`); made on first use. */
  links?: WeakMap<AbortSignal, Link>;
}

/**
 * A request's slot combined with an executor's signal: a controller both abort, listening to the
 * executor's signal only while a call of the slot is in flight. workerd's `AbortSignal.any` keeps
 * its listener on every source until the combination aborts, and a request's slot timer never
 * runs once the request has answered: the executor's signal, which lives as long as the runtime,
 * would gather one listener per request.
 */
interface Link {
  readonly controller: AbortController;
  readonly onAbort: () => void;
  inFlight: number;
}

export type DeadlineScope = 'process' | 'request';

export function sharedUpstreamDeadline(timeoutMs: number, scope: DeadlineScope): GatewayPlugin {
  const slotMs = Math.min(100, Math.max(1, Math.floor(timeoutMs / 100)));
  const message = `Subgraph timeout: no answer within ${timeoutMs} ms (UPSTREAM_TIMEOUT_MS).`;
  // The process's pending timers, cleared when the runtime is disposed (process scope only).
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let processSlot: Slot | undefined;
  const requestSlots = new WeakMap<object, Slot>();

  function openSlot(now: number): Slot {
    const controller = new AbortController();
    const shared = scope === 'process';
    // Every call of the process's slot listens to this one signal: no leak warning for many listeners.
    if (shared) setMaxListeners(0, controller.signal);
    // +1 ms: Node's timers count from the event loop's cached millisecond, up to 1 ms before now.
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        controller.abort(new DOMException(message, 'TimeoutError'));
      },
      timeoutMs + slotMs + 1,
    );
    // A pending deadline must not keep the process alive (Node; workerd's timers have no unref).
    timer.unref?.();
    if (shared) timers.add(timer);
    return { closesAt: now + slotMs, signal: controller.signal };
  }

  /** The slot a call starting now joins: the process's, or its request's (`owner`; a call without one gets its own). */
  function currentSlot(now: number, owner: object | undefined): Slot {
    const held = scope === 'process' ? processSlot : owner && requestSlots.get(owner);
    if (held && now < held.closesAt) return held;
    const slot = openSlot(now);
    if (scope === 'process') processSlot = slot;
    else if (owner) requestSlots.set(owner, slot);
    return slot;
  }

  /**
   * Per executor signal: the live combined controllers it must abort (one listener on it, ever),
   * each with how to take its listener off its slot's signal.
   */
  const dependants = new WeakMap<AbortSignal, Map<AbortController, () => void>>();

  /**
   * The slot's deadline or `other` (the executor's signal, long-lived), made once per slot and
   * signal. For the process's slots not `AbortSignal.any`, and not a listener per slot on `other`:
   * `other` gets a single listener that aborts the combined signals still live, and each leaves
   * that set when its slot's deadline has passed. A request's slot uses `linkTo` instead.
   */
  function combine(current: Slot, other: AbortSignal): AbortSignal {
    current.combined ??= new WeakMap();
    let signal = current.combined.get(other);
    if (signal) return signal;
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    let live = dependants.get(other);
    if (!live) {
      live = new Map();
      dependants.set(other, live);
      abortDependantsWith(other, live);
    }
    live.set(controller, leaveAtDeadline(current.signal, controller, live));
    signal = controller.signal;
    current.combined.set(other, signal);
    return signal;
  }

  /** A request's slot's link to `other` (made once per slot and signal). */
  function linkTo(current: Slot, other: AbortSignal): Link {
    current.links ??= new WeakMap();
    let link = current.links.get(other);
    if (!link) {
      const controller = new AbortController();
      current.signal.addEventListener('abort', () => controller.abort(current.signal.reason), { once: true });
      link = { controller, onAbort: () => controller.abort(other.reason), inFlight: 0 };
      current.links.set(other, link);
    }
    return link;
  }

  /** A call of the link's slot starts: the link listens to `other` while any is in flight. */
  function callStarts(link: Link, other: AbortSignal): void {
    if (link.inFlight++ > 0) return;
    if (other.aborted) link.onAbort();
    else other.addEventListener('abort', link.onAbort, { once: true });
  }

  function callEnds(link: Link, other: AbortSignal): void {
    if (--link.inFlight === 0) other.removeEventListener('abort', link.onAbort);
  }

  return {
    onFetch({ executionRequest, options, setOptions, fetchFn, setFetchFn }) {
      // Subgraph calls only (the runtime fetches other things, e.g. a supergraph by URL).
      if (!executionRequest) return;
      const own = options.signal ?? undefined;
      if (own?.aborted) return;
      const current = currentSlot(performance.now(), scope === 'request' ? requestOf(executionRequest.context) : undefined);
      const deadline = current.signal;
      const link = own && scope === 'request' ? linkTo(current, own) : undefined;
      setOptions({ ...options, signal: link ? link.controller.signal : own ? combine(current, own) : deadline });
      setFetchFn(async (url, init, context, info) => {
        // Listening starts with the fetch itself: a call another plugin answers never fetches.
        if (link) callStarts(link, own!);
        try {
          return await fetchFn(url, init, context, info);
        } catch (error) {
          // Aborted by the deadline (not by the runtime's disposal): the gateway's timeout error.
          if (deadline.aborted && !own?.aborted) {
            throw new GraphQLError(message, { extensions: { code: 'GATEWAY_TIMEOUT', http: { status: 504 } } });
          }
          throw error;
        } finally {
          if (link) callEnds(link, own!);
        }
      });
    },
    onDispose() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      processSlot = undefined;
    },
  };
}

/** The request a subgraph call's GraphQL context belongs to (the one the runtime handled). */
function requestOf(context: unknown): object | undefined {
  const request = (context as { request?: unknown } | undefined)?.request;
  return typeof request === 'object' && request !== null ? request : undefined;
}

/**
 * `other`'s one listener: aborts the combined signals still live with `other`'s reason, each first
 * taken off its slot's signal. That signal lives as long as its slot's timer (the timeout), and
 * `other`'s reason, when the runtime disposes a superseded supergraph, holds that version of the
 * graph (and, through the runtime, every version after it): an aborted combined signal, which
 * carries the reason, must not stay reachable from a timer. For the same reason the listeners on
 * a slot's signal hold the set and a combined controller only, never `other`.
 */
function abortDependantsWith(other: AbortSignal, live: Map<AbortController, () => void>): void {
  other.addEventListener(
    'abort',
    () => {
      for (const [dependant, leave] of live) {
        leave();
        dependant.abort(other.reason);
      }
      live.clear();
    },
    { once: true },
  );
}

/**
 * When the slot's deadline passes, the combined signal leaves the live set and aborts. Returns
 * what takes this listener off the slot's signal. Not `addEventListener`'s `signal` option: Node
 * keeps what removes such a listener in a WeakMap keyed by the slot's signal, holding the options
 * and so the combined signal, which would stay reachable from the timer all the same.
 */
function leaveAtDeadline(deadline: AbortSignal, controller: AbortController, live: Map<AbortController, () => void>): () => void {
  const listener = (): void => {
    live.delete(controller);
    controller.abort(deadline.reason);
  };
  deadline.addEventListener('abort', listener, { once: true });
  return () => deadline.removeEventListener('abort', listener);
}
