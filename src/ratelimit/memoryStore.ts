import { decide, expiresAt, type ClientState, type Decision, type RateLimitPolicy } from './policy.js';
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
  #sweepCursor: Iterator<[string, { expiresAt: number }]> | undefined;

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
  }

  /**
   * Sweeps a few entries per insert; when full, sweeps harder (but never the whole map: a flood
   * of new clients must not make every insert a full scan), then drops the oldest.
   */
  #makeRoom(now: number): void {
    const full = this.#entries.size >= this.#maxEntries;
    this.#sweep(now, full ? 64 : 4);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }

  #sweep(now: number, budget: number): void {
    for (let i = 0; i < budget; i++) {
      this.#sweepCursor ??= this.#entries.entries();
      const next = this.#sweepCursor.next();
      if (next.done) {
        this.#sweepCursor = undefined;
        return;
      }
      const [key, entry] = next.value;
      if (entry.expiresAt <= now) this.#entries.delete(key);
    }
  }
}
