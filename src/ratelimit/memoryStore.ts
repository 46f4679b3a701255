import { decide, expiresAt, type ClientState, type Decision, type RateLimitPolicy } from './policy.js';
import { MapSweeper } from './mapSweeper.js';
import type { RateLimitStore } from './store.js';

export interface MemoryStoreOptions {
  /** Most clients kept; past it, expired entries are swept, then the oldest entries dropped. */
  maxEntries?: number;
  /** The clock, in epoch milliseconds. */
  now?: () => number;
}

/**
 * The embedded store: one process or isolate only. Bounded in size; entries whose window and
 * block have both ended are swept incrementally as new clients arrive (no timers, so it also
 * runs in workerd, where timers may not outlive a request).
 */
export class MemoryStore implements RateLimitStore {
  readonly kind = 'memory';
  readonly #entries = new Map<string, { state: ClientState; expiresAt: number }>();
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #sweeper = new MapSweeper<string, { expiresAt: number }>(this.#entries, (entry, now) => entry.expiresAt <= now);

  constructor(options: MemoryStoreOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  decideNow(clientKey: string, policy: RateLimitPolicy): Decision {
    const now = this.#now();
    const entry = this.#entries.get(clientKey);
    const current = entry && entry.expiresAt > now ? entry.state : undefined;
    const { state, decision } = decide(current, now, policy);
    if (entry) {
      entry.state = state;
      entry.expiresAt = expiresAt(state);
    } else {
      this.#makeRoom(now);
      this.#entries.set(clientKey, { state, expiresAt: expiresAt(state) });
    }
    return decision;
  }

  async decide(clientKey: string, policy: RateLimitPolicy): Promise<Decision> {
    return this.decideNow(clientKey, policy);
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
