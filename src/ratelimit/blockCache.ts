import { MapSweeper } from './mapSweeper.js';

/** A remembered rejection: until when, and by which policy. */
export interface KnownBlock {
  readonly until: number;
  readonly policy: string;
}

/**
 * The blocks this instance has seen from the shared store (one per client key: the policy that
 * rejected it and until when), kept until they end, so that a blocked client costs the store nothing (docs/architecture.md, "Resilience":
 * the local block cache). Bounded: ended blocks are swept a few at a time as new ones arrive, and past
 * `maxEntries` the oldest goes. O(1) amortised per call.
 */
export class BlockCache {
  readonly #until = new Map<string, KnownBlock>();
  readonly #maxEntries: number;
  readonly #sweeper = new MapSweeper<string, KnownBlock>(this.#until, (block, now) => block.until <= now);

  constructor(maxEntries = 10_000) {
    if (!(maxEntries >= 1)) throw new RangeError('BlockCache: maxEntries must be at least 1');
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#until.size;
  }

  /** The client's block, or undefined when it is not known to be blocked. */
  lookup(clientKey: string, now: number): KnownBlock | undefined {
    const block = this.#until.get(clientKey);
    if (block === undefined) return undefined;
    if (block.until > now) return block;
    this.#until.delete(clientKey);
    return undefined;
  }

  /** Remembers that `policy` rejects the client until `until` (epoch ms). */
  add(clientKey: string, until: number, now: number, policy = 'default'): void {
    if (until <= now) return;
    if (!this.#until.has(clientKey)) this.#sweeper.makeRoom(now, this.#maxEntries, 2);
    this.#until.set(clientKey, { until, policy });
  }

  clear(): void {
    this.#until.clear();
    this.#sweeper.reset();
  }
}
