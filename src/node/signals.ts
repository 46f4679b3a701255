import { createServerAdapter } from '@whatwg-node/server';

/**
 * Makes SIGTERM/SIGINT Tollgate's alone to handle.
 *
 * The gateway runtime builds its server with `disposeOnProcessTerminate: true`, so on the first
 * SIGTERM @whatwg-node/server disposes it at once and in-flight operations fail with
 * SHUTTING_DOWN — the opposite of a graceful drain. That package registers its process handlers
 * once per process, the first time any adapter asks for them; asking now, through a throwaway
 * adapter, and removing those handlers leaves the signals to our shutdown, which disposes the
 * runtime itself after the drain. (Its `exit` handler stays: at exit disposing is right.)
 */
export function takeOverTerminationSignals(): void {
  const throwaway = createServerAdapter(() => new Response(null, { status: 204 }), { disposeOnProcessTerminate: true });
  void throwaway.disposableStack; // Registers the package's handlers, lazily created on this access.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    for (const listener of process.listeners(signal)) {
      if (listener.name === 'terminateHandler') process.removeListener(signal, listener);
    }
  }
}
