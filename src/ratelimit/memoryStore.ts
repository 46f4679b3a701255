import type { Check, Decision, Refund } from './policy.js';
import { MapSweeper } from './mapSweeper.js';
import { decideEntries, refundEntries, type EntryMap, type StateEntry } from './stateTable.js';
import type { RateLimitStore, StoreVerdict } from './store.js';

export interface MemoryStoreOptions {
  /** Most entries (one per client and policy) kept; past it, ended entries are swept, then the oldest dropped. */
  maxEntries?: number;
  /** The clock, in epoch milliseconds. */
  now?: () => number;
}

/**
 * The embedded store: one process or isolate only. Bounded in size; entries whose window, block
 * or refill have ended are swept incrementally as new ones arrive (no timers, so it also runs in
 * workerd, where timers may not outlive a request). Decisions are synchronous, hence atomic.
 */
export class MemoryStore implements RateLimitStore {
  readonly kind = 'memory';
  readonly #entries = new Map<string, StateEntry>();
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #sweeper = new MapSweeper<string, StateEntry>(this.#entries, (entry, now) => entry.expiresAt <= now);

  /** The clock's reading for the decision under way. */
  #decidingAt = 0;
  /** The map as `decideEntries` sees it: a new entry first makes room. */
  readonly #table: EntryMap = {
    get: (key) => this.#entries.get(key),
    add: (key, entry) => {
      this.#makeRoom(this.#decidingAt);
      this.#entries.set(key, entry);
    },
  };

  constructor(options: MemoryStoreOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** `decide`, synchronously. */
  decideNow(clientKey: string, checks: readonly Check[]): Decision[] {
    const now = this.#now();
    this.#decidingAt = now;
    return decideEntries(this.#table, clientKey, checks, now).decisions;
  }

  async decide(clientKey: string, checks: readonly Check[]): Promise<StoreVerdict> {
    return { decisions: this.decideNow(clientKey, checks) };
  }

  /** `refund`, synchronously. */
  refundNow(clientKey: string, refunds: readonly Refund[]): void {
    refundEntries(this.#table, clientKey, refunds, this.#now());
  }

  async refund(clientKey: string, refunds: readonly Refund[]): Promise<void> {
    this.refundNow(clientKey, refunds);
  }

  async close(): Promise<void> {
    this.#entries.clear();
    this.#sweeper.reset();
  }

  /** Sweeps a few entries per insert; when full, sweeps more (never the whole map), then evicts. */
  #makeRoom(now: number): void {
    const full = this.#entries.size >= this.#maxEntries;
    this.#sweeper.makeRoom(now, this.#maxEntries, full ? 8 : 4);
  }
}
