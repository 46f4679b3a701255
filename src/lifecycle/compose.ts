/** Calls the rest of the lifecycle; resolves once it has answered (the context's `response` is set). */
export type Next = () => Promise<void>;

/**
 * One step of the lifecycle, in the manner of Hono's middleware: it may answer (set the
 * context's `response` and not call `next`), or call `next` and then work on what came back.
 */
export type Step<C> = (c: C, next: Next) => Promise<void>;

/** Turns what a step threw into the context's response. Must not throw. */
export type OnError<C> = (error: unknown, c: C) => void;

/**
 * Chains `steps` once, at start-up, into one function per request. As in Hono's `compose`, an
 * error is turned into a response by `onError` at the step that threw it, and the steps around it
 * carry on as after any answer: the error response gets the same headers as any other. The end of
 * the chain (a `next` called by the last step) is an error too: some step must answer.
 *
 * @example
 * const run = compose([timing, rateLimit, gateway], errorShape);
 * await run(context); // context.response is the answer
 */
export function compose<C>(steps: readonly Step<C>[], onError: OnError<C>): (c: C) => Promise<void> {
  let run = async (_c: C): Promise<void> => {
    throw new Error('the lifecycle ended without an answer');
  };
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i]!;
    const next = run;
    run = async (c: C) => {
      try {
        await step(c, () => next(c));
      } catch (error) {
        onError(error, c);
      }
    };
  }
  return run;
}
