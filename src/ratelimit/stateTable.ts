import { decideAll, refundState, type AnyState, type Check, type Decision, type Refund } from './policy.js';

/** One policy's state for one client key, and when it stops mattering. */
export interface StateEntry {
  state: AnyState;
  expiresAt: number;
}

/** Where a store keeps its entries: the in-memory store's bounded map, a Durable Object's map. */
export interface EntryMap {
  get(key: string): StateEntry | undefined;
  /** Called for a key `get` did not find (or found ended): a new entry. */
  add(key: string, entry: StateEntry): void;
}

/** One entry per client, policy and algorithm (a policy whose algorithm changes starts afresh). */
export function entryKey(clientKey: string, check: Check): string {
  return `${check.limit.algorithm ?? 'fixed-window'} ${check.name} ${clientKey}`;
}

/**
 * Decides the checks of one client key against `entries` (`decideAll` in policy.ts) and writes
 * the states it leaves; returns the decisions and the entries written.
 */
export function decideEntries(
  entries: EntryMap,
  clientKey: string,
  checks: readonly Check[],
  now: number,
): { decisions: Decision[]; written: [key: string, entry: StateEntry][] } {
  const keys = checks.map((check) => entryKey(clientKey, check));
  const found = keys.map((key) => entries.get(key));
  const states = found.map((entry) => (entry && entry.expiresAt > now ? entry.state : undefined));
  const { decisions, writes } = decideAll(checks, states, now);
  const written: [string, StateEntry][] = [];
  writes.forEach((write, i) => {
    if (!write?.next) return;
    const entry = found[i];
    if (entry) {
      entry.state = write.next;
      entry.expiresAt = write.expiresAt;
      written.push([keys[i]!, entry]);
    } else {
      const added = { state: write.next, expiresAt: write.expiresAt };
      entries.add(keys[i]!, added);
      written.push([keys[i]!, added]);
    }
  });
  return { decisions, written };
}

/**
 * Gives back what `refunds` say to the entries of one client key (`refundState` in policy.ts);
 * returns the entries written. An entry that has ended, or a refund that changes nothing, is
 * left alone.
 */
export function refundEntries(
  entries: EntryMap,
  clientKey: string,
  refunds: readonly Refund[],
  now: number,
): [key: string, entry: StateEntry][] {
  const written: [string, StateEntry][] = [];
  for (const refund of refunds) {
    const key = entryKey(clientKey, refund.check);
    const entry = entries.get(key);
    if (!entry || entry.expiresAt <= now) continue;
    const write = refundState(refund, entry.state, now);
    if (!write) continue;
    entry.state = write.next;
    entry.expiresAt = write.expiresAt;
    written.push([key, entry]);
  }
  return written;
}
