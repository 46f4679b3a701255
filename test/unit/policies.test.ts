// RATE_LIMIT_POLICIES: parsePolicies (src/ratelimit/policies.ts) and how the configuration reads
// it, as JSON text, as a file on Node, and as the parsed value a Workers JSON variable arrives as.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config.js';
import { withFileVariables } from '../../src/node/fileVariables.js';
import { maxPolicies, parsePolicies, PolicyError, type PolicySpec } from '../../src/ratelimit/policies.js';

/** Parses a list of one policy `{ name: 'p', key: 'ip', limit: 10, window: 60, ...fields }` (a field set to undefined is left out). */
const one = (fields: Record<string, unknown>): unknown =>
  parsePolicies(JSON.stringify([{ name: 'p', key: 'ip', limit: 10, window: 60, ...fields }]));

/** Asserts a PolicyError whose message names the policy and the field, and matches `detail`. */
function refused(run: () => unknown, policy: string, field: string, detail?: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof PolicyError, `not a PolicyError: ${String(error)}`);
    assert.ok(error.message.includes(policy), `names the policy (${policy}): ${error.message}`);
    assert.ok(error.message.includes(`field "${field}"`), `names the field (${field}): ${error.message}`);
    if (detail) assert.match(error.message, detail);
    return true;
  });
}

describe('parsePolicies', () => {
  test('the documented example: defaults filled in, per-tier limits kept, seconds in ms', () => {
    const specs = parsePolicies(
      JSON.stringify([
        { name: 'ip', key: 'ip', limit: 300, window: 60 },
        { name: 'user', key: 'identity', limit: { free: 50, pro: 1000, default: 50 }, window: 60, penalty: 40 },
        { name: 'burst', algorithm: 'token-bucket', limit: { pro: 200, default: 20 }, refillPerSecond: 2.5, mode: 'shadow' },
        { name: 'sliding', algorithm: 'sliding-window', limit: 100, window: 10, mode: 'enforce', unit: 'requests' },
      ]),
    );
    assert.deepEqual(specs, [
      {
        name: 'ip',
        key: 'ip',
        algorithm: 'fixed-window',
        limits: { default: 300 },
        windowMs: 60_000,
        penaltyMs: 0,
        refillPerSecond: 0,
        unit: 'requests',
        mode: 'enforce',
        refund: false,
      },
      {
        name: 'user',
        key: 'identity',
        algorithm: 'fixed-window',
        limits: { free: 50, pro: 1000, default: 50 },
        windowMs: 60_000,
        penaltyMs: 40_000,
        refillPerSecond: 0,
        unit: 'requests',
        mode: 'enforce',
        refund: false,
      },
      {
        name: 'burst',
        key: 'identity',
        algorithm: 'token-bucket',
        limits: { pro: 200, default: 20 },
        windowMs: 0,
        penaltyMs: 0,
        refillPerSecond: 2.5,
        unit: 'requests',
        mode: 'shadow',
        refund: false,
      },
      {
        name: 'sliding',
        key: 'identity',
        algorithm: 'sliding-window',
        limits: { default: 100 },
        windowMs: 10_000,
        penaltyMs: 0,
        refillPerSecond: 0,
        unit: 'requests',
        mode: 'enforce',
        refund: false,
      },
    ]);
  });

  test('an unknown algorithm names the policy, the field and the algorithms there are', () => {
    refused(
      () => one({ algorithm: 'leaky-bucket' }),
      'policy "p"',
      'algorithm',
      /"fixed-window", "sliding-window", "token-bucket".*got "leaky-bucket"/,
    );
  });

  test('refund: only on a policy of unit "cost", and only true or false', () => {
    assert.equal((one({ unit: 'cost', refund: true }) as PolicySpec[])[0]!.refund, true);
    assert.equal((one({ unit: 'cost' }) as PolicySpec[])[0]!.refund, false);
    refused(() => one({ refund: true }), 'policy "p"', 'refund', /only a policy of "unit": "cost" refunds/);
    refused(() => one({ unit: 'cost', refund: 'yes' }), 'policy "p"', 'refund', /true or false/);
  });

  test('a negative, zero, fractional or non-numeric limit is refused', () => {
    for (const limit of [-1, 0, 2.5, '10', null, 1e12]) refused(() => one({ limit }), 'policy "p"', 'limit', /positive integer/);
  });

  test('a tier map without "default", with a bad count, or empty is refused', () => {
    refused(() => one({ limit: { free: 50, pro: 1000 } }), 'policy "p"', 'limit', /"default"/);
    refused(() => one({ limit: { free: -5, default: 50 } }), 'policy "p"', 'limit');
    refused(() => one({ limit: {} }), 'policy "p"', 'limit');
    refused(() => one({ limit: [10] }), 'policy "p"', 'limit');
  });

  test('an unknown field is refused, listing the fields there are', () => {
    refused(
      () => one({ windowSeconds: 60 }),
      'policy "p"',
      'windowSeconds',
      /unknown \(fields: name, key, limit, algorithm, window, penalty, refillPerSecond, unit, mode, refund, binding\)/,
    );
  });

  test('a name used twice is refused', () => {
    const twice = [
      { name: 'same', key: 'ip', limit: 10, window: 60 },
      { name: 'same', key: 'identity', limit: 20, window: 60 },
    ];
    refused(() => parsePolicies(JSON.stringify(twice)), 'policy "same"', 'name', /used twice/);
  });

  test('a missing or malformed name is refused by its position', () => {
    refused(() => parsePolicies('[{ "limit": 10, "window": 60 }]'), 'policy 1', 'name');
    refused(
      () => parsePolicies('[{ "name": "ok", "limit": 1, "window": 1 }, { "name": "has space", "limit": 10, "window": 60 }]'),
      'policy 2',
      'name',
    );
    refused(() => parsePolicies(JSON.stringify([{ name: 'x'.repeat(65), limit: 10, window: 60 }])), 'policy 1', 'name');
  });

  test('a token bucket with a window or a penalty, or without a positive refill, is refused', () => {
    refused(() => one({ algorithm: 'token-bucket', refillPerSecond: 5 }), 'policy "p"', 'window', /token bucket has "refillPerSecond"/);
    refused(() => one({ algorithm: 'token-bucket', window: undefined, penalty: 10, refillPerSecond: 5 }), 'policy "p"', 'penalty');
    for (const refillPerSecond of [undefined, 0, -1, 'fast', 1e10]) {
      refused(
        () => one({ algorithm: 'token-bucket', window: undefined, refillPerSecond }),
        'policy "p"',
        'refillPerSecond',
        /positive number/,
      );
    }
  });

  test('a refill on a window, a penalty on a sliding window, and bad windows or penalties are refused', () => {
    refused(() => one({ refillPerSecond: 5 }), 'policy "p"', 'refillPerSecond', /only a token bucket refills/);
    refused(() => one({ algorithm: 'sliding-window', penalty: 10 }), 'policy "p"', 'penalty', /only a fixed window has a penalty/);
    for (const window of [undefined, 0, 1.5, -60, '60', 86_400 * 366])
      refused(() => one({ window }), 'policy "p"', 'window', /whole seconds/);
    for (const penalty of [-1, 0.5, 'long']) refused(() => one({ penalty }), 'policy "p"', 'penalty', /whole seconds/);
    assert.equal((one({ penalty: 0 }) as { penaltyMs: number }[])[0]!.penaltyMs, 0, 'a penalty of 0: none');
  });

  test('unit is "requests" (the default) or "cost"; anything else is refused', () => {
    assert.equal((one({}) as { unit: string }[])[0]!.unit, 'requests');
    assert.equal((one({ unit: 'cost' }) as { unit: string }[])[0]!.unit, 'cost');
    refused(() => one({ unit: 'bytes' }), 'policy "p"', 'unit', /"requests" or "cost"/);
  });

  test('mode is "enforce" (the default) or "shadow"', () => {
    assert.equal((one({}) as { mode: string }[])[0]!.mode, 'enforce');
    assert.equal((one({ mode: 'shadow' }) as { mode: string }[])[0]!.mode, 'shadow');
    for (const mode of ['dry-run', 'Shadow', true]) refused(() => one({ mode }), 'policy "p"', 'mode', /"enforce" or "shadow"/);
  });

  test('key is "ip" or "identity" (the default)', () => {
    assert.equal((parsePolicies('[{ "name": "n", "limit": 1, "window": 1 }]') as { key: string }[])[0]!.key, 'identity');
    refused(() => one({ key: 'user' }), 'policy "p"', 'key', /"ip" or "identity"/);
  });

  test('the list itself: JSON, a non-empty list of objects, at most the maximum', () => {
    assert.throws(
      () => parsePolicies('[{ "name": '),
      (e: unknown) => e instanceof PolicyError && /not JSON/.test(e.message),
    );
    assert.throws(
      () => parsePolicies('[]'),
      (e: unknown) => e instanceof PolicyError && /at least one policy/.test(e.message),
    );
    assert.throws(
      () => parsePolicies('{ "name": "p" }'),
      (e: unknown) => e instanceof PolicyError && /JSON list/.test(e.message),
    );
    assert.throws(
      () => parsePolicies('["p"]'),
      (e: unknown) => e instanceof PolicyError && /policy 1: expected an object/.test(e.message),
    );
    const many = Array.from({ length: maxPolicies + 1 }, (_, i) => ({ name: `p${i}`, limit: 1, window: 1 }));
    assert.throws(
      () => parsePolicies(JSON.stringify(many)),
      (e: unknown) => e instanceof PolicyError && new RegExp(`at most ${maxPolicies}`).test(e.message),
    );
    assert.equal(parsePolicies(JSON.stringify(many.slice(1))).length, maxPolicies);
  });
});

describe('RATE_LIMIT_POLICIES in the configuration', () => {
  const list = [
    { name: 'ip', key: 'ip', limit: 300, window: 60 },
    { name: 'user', limit: { pro: 1000, default: 50 }, algorithm: 'sliding-window', window: 60 },
  ];

  test('unset: one "default" fixed window from the RATE_LIMIT_* figures', () => {
    const config = parseConfig({ RATE_LIMIT_MAX_REQUESTS: '10', RATE_LIMIT_WINDOW_SECONDS: '5', RATE_LIMIT_PENALTY_SECONDS: '7' }, 'node');
    assert.deepEqual(config.policies, [
      {
        name: 'default',
        key: 'identity',
        algorithm: 'fixed-window',
        limits: { default: 10 },
        windowMs: 5000,
        penaltyMs: 7000,
        refillPerSecond: 0,
        unit: 'requests',
        mode: 'enforce',
        refund: false,
      },
    ]);
    assert.equal(parseConfig({ RATE_LIMIT_POLICIES: '  ' }, 'node').policies[0]!.name, 'default', 'blank is unset');
  });

  test('JSON text, and the parsed value a Workers JSON variable arrives as, give the same policies', () => {
    const fromText = parseConfig({ RATE_LIMIT_POLICIES: JSON.stringify(list) }, 'node').policies;
    const fromValue = parseConfig({ RATE_LIMIT_POLICIES: list }, 'worker').policies;
    assert.deepEqual(fromValue, fromText);
    assert.deepEqual(
      fromText.map((p) => [p.name, p.key, p.algorithm]),
      [
        ['ip', 'ip', 'fixed-window'],
        ['user', 'identity', 'sliding-window'],
      ],
    );
  });

  test('a bad list stops the configuration with a ConfigError naming the variable, the policy and the field', () => {
    for (const value of [
      JSON.stringify([{ name: 'tiers', limit: { pro: 5 }, window: 60 }]),
      [{ name: 'tiers', limit: { pro: 5 }, window: 60 }],
    ]) {
      assert.throws(
        () => parseConfig({ RATE_LIMIT_POLICIES: value }, 'worker'),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.variable === 'RATE_LIMIT_POLICIES' &&
          /^Invalid RATE_LIMIT_POLICIES: policy "tiers": field "limit"/.test(error.message),
      );
    }
    assert.throws(
      () => parseConfig({ RATE_LIMIT_POLICIES: [{ name: 'neg', key: 'ip', limit: -3, window: 60 }] }, 'worker'),
      /policy "neg": field "limit"/,
    );
  });

  test('on Node, a file path: the file’s JSON is read; a missing file names the variable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-policies-'));
    try {
      const file = join(dir, 'policies.json');
      writeFileSync(file, JSON.stringify(list));
      const env = withFileVariables({ RATE_LIMIT_POLICIES: file });
      assert.deepEqual(parseConfig(env, 'node').policies, parseConfig({ RATE_LIMIT_POLICIES: JSON.stringify(list) }, 'node').policies);
      // JSON in the variable is used as it is, not taken for a path.
      assert.equal(
        withFileVariables({ RATE_LIMIT_POLICIES: ` ${JSON.stringify(list)}` })['RATE_LIMIT_POLICIES'],
        ` ${JSON.stringify(list)}`,
      );
      assert.throws(
        () => withFileVariables({ RATE_LIMIT_POLICIES: join(dir, 'missing.json') }),
        (error: unknown) => error instanceof ConfigError && error.variable === 'RATE_LIMIT_POLICIES' && /ENOENT/.test(error.message),
      );
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify([{ name: 'tb', algorithm: 'token-bucket', limit: 10, window: 60, refillPerSecond: 1 }]));
      assert.throws(() => parseConfig(withFileVariables({ RATE_LIMIT_POLICIES: bad }), 'node'), /policy "tb": field "window"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
