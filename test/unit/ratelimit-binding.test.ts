// RATE_LIMIT_STORE=cloudflare, offline: which policies a Rate Limiting binding can count (the
// configuration refuses the others, naming the variable and why), the store's calls and answers
// against a stand-in binding, the ResilientStore around it (fail open, no remembered blocks), and
// the headers of a yes/no store. In workerd with Miniflare's binding: test/ratelimit-binding.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config.js';
import { setRateLimitHeaders } from '../../src/lifecycle/steps/rateLimit.js';
import { createStore } from '../../src/ratelimit/createStore.js';
import { createLogger } from '../../src/log.js';
import type { Check } from '../../src/ratelimit/policy.js';
import { RateLimitBindingStore, type RateLimitBinding } from '../../src/ratelimit/rateLimitBinding/store.js';
import type { AppliedPolicy } from '../../src/ratelimit/result.js';

const cloudflare = { RATE_LIMIT_STORE: 'cloudflare' };

/** A binding that says yes `allow` times per key, recording every call's options. */
function standIn(allow: number): RateLimitBinding & { calls: unknown[] } {
  const counts = new Map<string, number>();
  const calls: unknown[] = [];
  return {
    calls,
    async limit(options) {
      calls.push(options);
      const n = (counts.get(options.key) ?? 0) + 1;
      counts.set(options.key, n);
      return { success: n <= allow };
    },
  };
}

function refusedConfig(env: Record<string, unknown>, variable: string, why: RegExp): void {
  assert.throws(
    () => parseConfig(env, 'worker'),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.equal(error.variable, variable);
      assert.match(error.message, why);
      return true;
    },
  );
}

describe('RATE_LIMIT_STORE=cloudflare: the configuration', () => {
  test('Workers only', () => {
    assert.throws(() => parseConfig({ ...cloudflare, RATE_LIMIT_PENALTY_SECONDS: '0' }, 'node'), /only on Workers/);
  });

  test('the default policy: its binding from RATE_LIMIT_BINDING (default RL_DEFAULT), no penalty, 10 or 60 s', () => {
    const config = parseConfig({ ...cloudflare, RATE_LIMIT_PENALTY_SECONDS: '0' }, 'worker');
    assert.equal(config.rateLimitStore, 'cloudflare');
    assert.equal(config.policies[0]!.binding, 'RL_DEFAULT');
    assert.equal(
      parseConfig({ ...cloudflare, RATE_LIMIT_PENALTY_SECONDS: '0', RATE_LIMIT_BINDING: 'RL_EDGE' }, 'worker').policies[0]!.binding,
      'RL_EDGE',
    );
    // The seed's 40 s penalty is the default: the binding cannot block, so it must be set to 0.
    refusedConfig(cloudflare, 'RATE_LIMIT_PENALTY_SECONDS', /penalty of 40 s: a Rate Limiting binding has no penalty block/);
    refusedConfig(
      { ...cloudflare, RATE_LIMIT_PENALTY_SECONDS: '0', RATE_LIMIT_WINDOW_SECONDS: '30' },
      'RATE_LIMIT_WINDOW_SECONDS',
      /window of 30 s: .*10 or 60 s/,
    );
    // Other stores get no binding on their checks.
    assert.equal(parseConfig({}, 'worker').policies[0]!.binding, undefined);
  });

  const policy = { name: 'p', key: 'ip', limit: 10, window: 60, binding: 'RL_P' };
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['no binding', { binding: undefined }, /no "binding"/],
    ['a sliding window', { algorithm: 'sliding-window' }, /algorithm "sliding-window"/],
    ['a token bucket', { algorithm: 'token-bucket', window: undefined, refillPerSecond: 1 }, /algorithm "token-bucket"/],
    ['a penalty', { penalty: 40 }, /penalty of 40 s/],
    ['a 30 s window', { window: 30 }, /window of 30 s/],
    ['a limit per tier', { limit: { free: 10, pro: 100, default: 10 } }, /a limit per tier: binding RL_P/],
  ];
  for (const [what, fields, why] of cases) {
    test(`refused, naming the policy and why: ${what}`, () => {
      refusedConfig(
        { ...cloudflare, RATE_LIMIT_POLICIES: [{ ...policy, ...fields }] },
        'RATE_LIMIT_POLICIES',
        new RegExp(`policy "p": (a )?${why.source}`),
      );
    });
  }

  test('accepted: 10 and 60 s windows, shadow policies, two policies on one binding with the same figures', () => {
    const config = parseConfig(
      {
        ...cloudflare,
        RATE_LIMIT_POLICIES: [
          { name: 'burst', key: 'ip', limit: 5, window: 10, binding: 'RL_BURST' },
          { name: 'user', key: 'identity', limit: 100, window: 60, binding: 'RL_USER' },
          { name: 'user-ip', key: 'ip', limit: 100, window: 60, binding: 'RL_USER' },
          { name: 'watch', key: 'ip', limit: 1, window: 60, mode: 'shadow', binding: 'RL_WATCH' },
        ],
      },
      'worker',
    );
    assert.deepEqual(
      config.policies.map((p) => p.binding),
      ['RL_BURST', 'RL_USER', 'RL_USER', 'RL_WATCH'],
    );
    refusedConfig(
      {
        ...cloudflare,
        RATE_LIMIT_POLICIES: [
          { name: 'a', key: 'ip', limit: 100, window: 60, binding: 'RL_X' },
          { name: 'b', key: 'ip', limit: 50, window: 60, binding: 'RL_X' },
        ],
      },
      'RATE_LIMIT_POLICIES',
      /policy "b": binding RL_X is also policy "a"'s, with other figures/,
    );
  });

  test('"binding" is validated as a name, and ignored by the other stores', () => {
    assert.throws(() => parseConfig({ RATE_LIMIT_POLICIES: [{ ...policy, binding: 'not a name' }] }, 'worker'), /field "binding"/);
    assert.equal(parseConfig({ RATE_LIMIT_POLICIES: [policy] }, 'worker').policies[0]!.binding, 'RL_P');
  });
});

describe('the Rate Limiting binding store', () => {
  const check = (name: string, binding: string, windowMs = 60_000, shadow = false): Check => ({
    name,
    limit: { algorithm: 'fixed-window', limit: 2, windowMs, penaltyMs: 0 },
    cost: 1,
    binding,
    ...(shadow && { shadow }),
  });

  test('one limit({ key }) per check, keyed by policy and client; yes → allowed, no → limited for the period', async () => {
    const burst = standIn(2);
    const minute = standIn(5);
    const store = new RateLimitBindingStore({ RL_BURST: burst, RL_MINUTE: minute });
    const checks = [check('burst', 'RL_BURST', 10_000), check('minute', 'RL_MINUTE')];
    const verdicts = [];
    for (let i = 0; i < 3; i++) verdicts.push(await store.decide('ip:192.0.2.1', checks));
    assert.deepEqual(burst.calls[0], { key: 'burst:ip:192.0.2.1' }, 'only the key: no per-call limit or period');
    assert.deepEqual(minute.calls[0], { key: 'minute:ip:192.0.2.1' });
    assert.equal(verdicts[1]!.decisions[0]!.allowed, true);
    assert.deepEqual(verdicts[2]!.decisions[0], { allowed: false, reason: 'limited', retryAfterMs: 10_000 });
    // Not one atomic decision: the other policy counted the rejected request too.
    assert.equal(minute.calls.length, 3);
    assert.equal(store.answers, 'yes-no');
  });

  test('an unknown binding or a reply without `success` is an error (the ResilientStore fails open)', async () => {
    const store = new RateLimitBindingStore({ RL_ODD: { limit: async () => ({ ok: true }) as never } });
    await assert.rejects(store.decide('k', [check('x', 'RL_NONE')]), /no Rate Limiting binding RL_NONE/);
    await assert.rejects(store.decide('k', [check('x', 'RL_ODD')]), /unexpected Rate Limiting binding reply/);
  });

  test('behind ResilientStore: a binding that throws fails open; its rejections are not remembered as blocks', async () => {
    const log = createLogger('error');
    const throwing = createStore(
      { kind: 'cloudflare', timeoutMs: 50 },
      { log, rateLimitBindings: { RL: { limit: () => Promise.reject(new Error('binding down')) } } },
    );
    const failed = await throwing.decide('k', [check('p', 'RL')]);
    assert.equal(failed.source, 'failed-open');
    assert.equal(failed.cause, 'error');

    let yes = false;
    const flipping = createStore(
      { kind: 'cloudflare', timeoutMs: 50 },
      { log, rateLimitBindings: { RL: { limit: async () => ({ success: yes }) } } },
    );
    assert.equal(flipping.answers, 'yes-no');
    assert.equal((await flipping.decide('k', [check('p', 'RL')])).decisions[0]!.allowed, false);
    yes = true;
    const next = await flipping.decide('k', [check('p', 'RL')]);
    assert.equal(next.source, 'store', 'asked again, not answered from a block cache');
    assert.equal(next.decisions[0]!.allowed, true);
  });
});

describe('headers of a yes/no store', () => {
  const policy: AppliedPolicy = {
    name: 'default',
    key: 'identity',
    limit: { limit: 50, windowMs: 60_000, penaltyMs: 0 },
    tier: 'default',
    shadow: false,
  };
  const base = { source: 'store' as const, policy, outcomes: [] };

  test('allowed: RateLimit-Policy only (no remaining count to report)', () => {
    const headers = new Headers();
    setRateLimitHeaders(headers, '"default";q=50;w=60', { ...base, allowed: true, remaining: 50, resetMs: 60_000 }, false);
    assert.equal(headers.get('RateLimit-Policy'), '"default";q=50;w=60');
    assert.equal(headers.get('RateLimit'), null);
  });

  test('rejected: r=0 and t = Retry-After = the period', () => {
    const headers = new Headers();
    setRateLimitHeaders(headers, '"default";q=50;w=60', { ...base, allowed: false, reason: 'limited', retryAfterMs: 60_000 }, false);
    assert.equal(headers.get('RateLimit'), '"default";r=0;t=60');
    assert.equal(headers.get('Retry-After'), '60');
  });
});
