import { MapSweeper } from './mapSweeper.js';

/**
 * The blocks this instance has seen from the shared store, kept until they end, so that a
 * blocked client costs the store nothing (docs/architecture.md, "Resilience":
 * the local block cache). Bounded: ended blocks are swept a few at a time as new ones arrive, and past
 * `maxEntries` the oldest goes. O(1) amortised per call.
 */
export class BlockCache {
  readonly #until = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #sweeper = new MapSweeper<string, number>(this.#until, (until, now) => until <= now);

  constructor(maxEntries = 10_000) {
    if (!(maxEntries >= 1)) throw new RangeError('BlockCache: maxEntries must be at least 1');
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#until.size;
  }

  /** Milliseconds left of the client's block, or undefined when it is not known to be blocked. */
  retryAfterMs(clientKey: string, now: number): number | undefined {
    const until = this.#until.get(clientKey);
    if (until === undefined) return undefined;
    if (until > now) return until - now;
    this.#until.delete(clientKey);
    return undefined;
  }

  /** Remembers that the client is blocked until `until` (epoch ms). */
  add(clientKey: string, until: number, now: number): void {
    if (until <= now) return;
    if (!this.#until.has(clientKey)) this.#sweeper.makeRoom(now, this.#maxEntries, 2);
    this.#until.set(clientKey, until);
  }

  clear(): void {
    this.#until.clear();
    this.#sweeper.reset();
  }
}
