import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryStore } from '../src/ratelimit/memoryStore.js';
import { decide, defaultPolicy, toSeconds, type ClientState } from '../src/ratelimit/policy.js';
import { runPolicyScenario } from './support/ratelimit-scenario.js';
import { decideOne } from './support/decide-one.js';

/** The seed's one policy, as a store's checks. */
const defaultChecks = [{ name: 'default', limit: defaultPolicy, cost: 1 }];

describe('policy: decide(state, now, policy)', () => {
  test('the documented scenario with an injected clock', async () => {
    let state: ClientState | undefined;
    let clock = 1_000_000;
    await runPolicyScenario({
      policy: defaultPolicy,
      decide: async () => {
        const next = decide(state, clock, defaultPolicy);
        state = next.state;
        return next.decision;
      },
      now: () => clock,
      sleep: async (ms) => void (clock += ms),
    });
  });

  test('toSeconds rounds up to whole seconds, at least 1', () => {
    assert.equal(toSeconds(40_000), 40);
    assert.equal(toSeconds(39_001), 40);
    assert.equal(toSeconds(1), 1);
    assert.equal(toSeconds(0), 1);
  });
});

describe('MemoryStore', () => {
  test('the same scenario', async () => {
    let clock = 1_000_000;
    const store = new MemoryStore({ now: () => clock });
    await runPolicyScenario({
      policy: defaultPolicy,
      decide: () => decideOne(store, '203.0.113.7', defaultPolicy),
      now: () => clock,
      sleep: async (ms) => void (clock += ms),
    });
  });

  test('clients are independent', () => {
    const store = new MemoryStore({ now: () => 0 });
    for (let i = 0; i < 51; i++) store.decideNow('a', defaultChecks);
    assert.equal(store.decideNow('a', defaultChecks)[0]!.allowed, false);
    assert.deepEqual(store.decideNow('b', defaultChecks)[0]!, { allowed: true, remaining: 49, resetMs: 60_000 });
  });

  test('bounded: never more than maxEntries; ended entries swept; oldest dropped when all are live', () => {
    let clock = 0;
    const store = new MemoryStore({ maxEntries: 100, now: () => clock });
    for (let i = 0; i < 100; i++) store.decideNow(`old-${i}`, defaultChecks)[0]!;
    assert.equal(store.size, 100);
    // All live: a new client drops an old one (the entry under the sweep's cursor: roughly the
    // oldest, not exactly, see mapSweeper.ts).
    store.decideNow('new-0', defaultChecks)[0]!;
    assert.equal(store.size, 100);
    assert.equal((store.decideNow('new-0', defaultChecks)[0]! as { remaining: number }).remaining, 48, 'the new client is kept');
    // A kept client counts on (remaining 48); a dropped one starts a fresh window (49).
    const fresh = Array.from({ length: 100 }, (_, i) => store.decideNow(`old-${i}`, defaultChecks)[0]! as { remaining: number }).filter(
      (d) => d.remaining === 49,
    );
    assert.ok(fresh.length >= 1, 'an old client was dropped');
    assert.equal(store.size, 100);
    // Later, every window has ended: new clients sweep ended entries instead of growing.
    clock += defaultPolicy.windowMs + 1;
    for (let i = 0; i < 1000; i++) {
      store.decideNow(`later-${i}`, defaultChecks)[0]!;
      assert.ok(store.size <= 100, `size ${store.size} > 100`);
    }
    // Swept incrementally: most of the old entries are gone long before the map fills.
    clock += defaultPolicy.windowMs + 1;
    for (let i = 0; i < 50; i++) store.decideNow(`fresh-${i}`, defaultChecks)[0]!;
    assert.ok(store.size <= 100);
  });

  // Its cost per new client (a bounded sweep, not a full scan) is measured in bench/inserts.ts.
  test('a full store of live clients stays at its bound as new clients arrive', () => {
    const store = new MemoryStore({ maxEntries: 50_000, now: () => 0 });
    for (let i = 0; i < 50_000; i++) store.decideNow(`a${i}`, defaultChecks)[0]!;
    for (let i = 0; i < 5_000; i++) store.decideNow(`b${i}`, defaultChecks)[0]!;
    assert.equal(store.size, 50_000);
    assert.equal((store.decideNow('b4999', defaultChecks)[0]! as { remaining: number }).remaining, 48, 'the newest are kept');
  });
});
