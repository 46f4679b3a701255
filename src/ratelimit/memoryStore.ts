import { decideAll, type AnyState, type Check, type Decision } from './policy.js';
import { MapSweeper } from './mapSweeper.js';
import type { RateLimitStore, StoreVerdict } from './store.js';

export interface MemoryStoreOptions {
  /** Most entries (one per client and policy) kept; past it, ended entries are swept, then the oldest dropped. */
  maxEntries?: number;
  /** The clock, in epoch milliseconds. */
  now?: () => number;
}

interface Entry {
  state: AnyState;
  expiresAt: number;
}

/**
 * The embedded store: one process or isolate only. Bounded in size; entries whose window, block
 * or refill have ended are swept incrementally as new ones arrive (no timers, so it also runs in
 * workerd, where timers may not outlive a request). Decisions are synchronous, hence atomic.
 */
export class MemoryStore implements RateLimitStore {
  readonly kind = 'memory';
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #sweeper = new MapSweeper<string, Entry>(this.#entries, (entry, now) => entry.expiresAt <= now);

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
    const keys = checks.map((check) => entryKey(clientKey, check));
    const entries = keys.map((key) => this.#entries.get(key));
    const states = entries.map((entry) => (entry && entry.expiresAt > now ? entry.state : undefined));
    const { decisions, writes } = decideAll(checks, states, now);
    writes.forEach((write, i) => {
      if (!write?.next) return;
      const entry = entries[i];
      if (entry) {
        entry.state = write.next;
        entry.expiresAt = write.expiresAt;
      } else {
        this.#makeRoom(now);
        this.#entries.set(keys[i]!, { state: write.next, expiresAt: write.expiresAt });
      }
    });
    return decisions;
  }

  async decide(clientKey: string, checks: readonly Check[]): Promise<StoreVerdict> {
    return { decisions: this.decideNow(clientKey, checks) };
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

/** One entry per client, policy and algorithm (a policy whose algorithm changes starts afresh). */
function entryKey(clientKey: string, check: Check): string {
  return `${check.limit.algorithm ?? 'fixed-window'} ${check.name} ${clientKey}`;
}
