/** What a coalescer needs of a socket: Node's `Writable` corking. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * How many held commands at most go out in one write. With 50 decisions in flight on loopback
 * (the rate-limit benchmark's fixed-window workload), 8 and 16 did about as well as each other, 4
 * less, and no bound at all about half as well: the whole burst became one stop-and-wait exchange.
 */
export const defaultMaxBatch = 16;

/**
 * Sends the commands issued together on one connection in as few writes as possible. The first
 * command of a burst is written at once, as it would be without a coalescer; those issued after
 * it before the microtask queue reaches the burst's end (queued by that first command) are held
 * in the corked socket and sent together there. A burst is what one turn of work issues: a
 * request's address and identity calls, or the decisions that the replies of one read let go
 * on. Redis then reads the held commands in one read and answers them in one write. A lone
 * decision never waits, and no decision waits for a reply to another, as it would with ioredis's
 * auto-pipelining, which holds a tick's commands while an earlier batch is outstanding.
 *
 * Once `maxBatch` commands are held they are sent before the next is added, so the server starts
 * on them while the burst goes on.
 *
 * A write and a read per decision are most of what a decision costs on either side of a loopback
 * connection; the rate-limit benchmark reports both sides' CPU per decision.
 */
export class WriteCoalescer {
  readonly #maxBatch: number;
  /** The socket of the burst under way (its first command went out alone). */
  #open: Corkable | undefined;
  #corked = false;
  #held = 0;

  constructor(maxBatch = defaultMaxBatch) {
    this.#maxBatch = maxBatch;
  }

  /** Call before writing a command to `socket`. */
  beforeWrite(socket: Corkable): void {
    if (this.#open !== socket) {
      // A new burst, or a socket replaced since (a reconnection): the old one is let go of first.
      this.#end();
      this.#open = socket;
      queueMicrotask(this.#endBurst);
      return;
    }
    if (!this.#corked) {
      socket.cork();
      this.#corked = true;
    } else if (this.#held >= this.#maxBatch) {
      socket.uncork();
      socket.cork();
      this.#held = 0;
    }
    this.#held++;
  }

  readonly #endBurst = (): void => this.#end();

  #end(): void {
    const socket = this.#open;
    if (!socket) return;
    this.#open = undefined;
    this.#held = 0;
    if (this.#corked) {
      this.#corked = false;
      socket.uncork();
    }
  }
}
