import { DurableObject } from 'cloudflare:workers';
import type { Check, Decision, Refund } from '../ratelimit/policy.js';
import { decideEntries, refundEntries, type EntryMap, type StateEntry } from '../ratelimit/stateTable.js';

/**
 * The Durable Object behind `RATE_LIMIT_STORE=durable-object`: one object per client key, holding
 * the state of every policy of that key (src/ratelimit/durableObject/store.ts calls `decide`).
 *
 * An object runs one call at a time, so each decision is atomic, with the semantics of the
 * in-memory store (`decideEntries`) and the object's clock. State lives in memory and in the
 * object's SQLite-backed storage: each decision's writes are put without awaiting them, and the
 * output gate holds the reply until they are durable, so a decision is never answered and then
 * lost. After an eviction or a restart the object reloads its entries before its first call:
 * counts, blocks and buckets carry on where they were. An alarm at the latest expiry deletes what
 * has ended, so an idle key leaves nothing behind.
 */
export class RateLimiterObject extends DurableObject {
  readonly #entries = new Map<string, StateEntry>();
  /** When the alarm is set for; 0 when none is. */
  #alarmAt = 0;
  readonly #table: EntryMap = {
    get: (key) => this.#entries.get(key),
    add: (key, entry) => this.#entries.set(key, entry),
  };

  constructor(ctx: ConstructorParameters<typeof DurableObject>[0], env: unknown) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      for (const [key, entry] of await ctx.storage.list<StateEntry>()) this.#entries.set(key, entry);
      this.#alarmAt = (await ctx.storage.getAlarm()) ?? 0;
    });
  }

  /** Decides the checks of this object's key for one request. */
  decide(checks: readonly Check[]): Decision[] {
    const now = Date.now();
    // The object is the key: entries need no client key of their own.
    const { decisions, written } = decideEntries(this.#table, '', checks, now);
    this.#persist(written);
    return decisions;
  }

  /** Gives back part of what a request of this object's key was charged. */
  refund(refunds: readonly Refund[]): void {
    this.#persist(refundEntries(this.#table, '', refunds, Date.now()));
  }

  /** Puts the entries written (durable before the call's reply: the output gate) and keeps the alarm at the latest expiry. */
  #persist(written: readonly [string, StateEntry][]): void {
    if (written.length === 0) return;
    void this.ctx.storage.put(Object.fromEntries(written));
    const latest = Math.max(...written.map(([, entry]) => entry.expiresAt));
    if (latest > this.#alarmAt) {
      this.#alarmAt = latest;
      void this.ctx.storage.setAlarm(latest);
    }
  }

  /** Deletes the entries that have ended; with none left, the object's storage goes too. */
  async alarm(): Promise<void> {
    const now = Date.now();
    const ended = [...this.#entries].filter(([, entry]) => entry.expiresAt <= now).map(([key]) => key);
    for (const key of ended) this.#entries.delete(key);
    if (this.#entries.size === 0) {
      this.#alarmAt = 0;
      await this.ctx.storage.deleteAll();
      return;
    }
    await this.ctx.storage.delete(ended);
    this.#alarmAt = Math.max(...[...this.#entries.values()].map((entry) => entry.expiresAt));
    await this.ctx.storage.setAlarm(this.#alarmAt);
  }
}
