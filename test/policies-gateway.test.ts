// Several policies through the whole Node gateway (createTollgate, node:http, the demo subgraphs
// over HTTP): tiers from a verified JWT, an API-key plan with a per-address floor, shadow
// policies, the RateLimit headers that list them, and the same on a real Redis.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { Redis } from 'ioredis';
import { silentLogger } from '../src/log.js';
import { apiKeyDigest } from '../src/identity/apiKeys.js';
import { createStore } from '../src/ratelimit/createStore.js';
import { MemoryStore } from '../src/ratelimit/memoryStore.js';
import { closeDemo, postQuery, startTestGateway, type TestGateway } from './support/gateway.js';
import { deleteKeys, uniquePrefix } from './support/redis-server.js';

const secret = 'an-hs256-secret-of-at-least-32-bytes';
const token = (sub: string, plan?: string) =>
  new SignJWT({ sub, exp: Math.floor(Date.now() / 1000) + 600, ...(plan && { plan }) })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(secret));
const bearer = async (sub: string, plan?: string) => ({ authorization: `Bearer ${await token(sub, plan)}` });

/** Per-user tiers from a JWT, with a generous per-address limit under them. */
const userTiers = JSON.stringify([
  { name: 'ip', key: 'ip', limit: 100, window: 60 },
  { name: 'user', key: 'identity', limit: { free: 3, pro: 6, default: 2 }, window: 60, penalty: 30 },
]);

/** An API-key plan with a per-address floor. */
const keyPlan = JSON.stringify([
  { name: 'ip', key: 'ip', limit: 5, window: 60 },
  { name: 'plan', key: 'identity', limit: { gold: 1000, default: 100 }, window: 60 },
]);

interface ErrorBody {
  errors: { message: string; extensions: { code: string; policy?: string; retryAfter?: number } }[];
}

async function statuses(url: string, count: number, headers: Record<string, string> = {}): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await postQuery(url, '{ __typename }', headers);
    await response.arrayBuffer();
    out.push(response.status);
  }
  return out;
}

describe('policies in the Node gateway', () => {
  const gateways: TestGateway[] = [];
  after(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await closeDemo();
  });

  test('per-user tiers from a JWT: each user at its tier’s limit; RateLimit-Policy lists both policies at the tier’s figures', async () => {
    const gateway = await startTestGateway({
      RATE_LIMIT_IDENTITY: 'jwt,ip',
      JWT_SECRET: secret,
      JWT_TIER_CLAIM: 'plan',
      RATE_LIMIT_POLICIES: userTiers,
    });
    gateways.push(gateway);
    const free = await bearer('ann', 'free');
    const pro = await bearer('pat', 'pro');
    const unknownTier = await bearer('uma', 'platinum');

    const first = await postQuery(gateway.url, '{ __typename }', free);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('ratelimit-policy'), '"ip";q=100;w=60, "user";q=3;w=60');
    assert.equal(first.headers.get('ratelimit'), '"user";r=2;t=60', 'the smallest remaining share: user 2/3 < ip 99/100');
    assert.deepEqual(await statuses(gateway.url, 3, free), [200, 200, 429], 'free: 3 in the window');

    const proFirst = await postQuery(gateway.url, '{ __typename }', pro);
    assert.equal(proFirst.headers.get('ratelimit-policy'), '"ip";q=100;w=60, "user";q=6;w=60');
    assert.deepEqual([proFirst.status, ...(await statuses(gateway.url, 6, pro))], [200, 200, 200, 200, 200, 200, 429]);
    assert.deepEqual(await statuses(gateway.url, 3, unknownTier), [200, 200, 429], 'a tier no policy names gets the default');

    const rejected = await postQuery(gateway.url, '{ __typename }', free);
    assert.equal(rejected.status, 429);
    const body = (await rejected.json()) as ErrorBody;
    assert.equal(body.errors[0]?.extensions.code, 'RATE_LIMITED');
    assert.equal(body.errors[0]?.extensions.policy, 'user');
    const retryAfter = rejected.headers.get('retry-after');
    assert.ok(Number(retryAfter) > 0 && Number(retryAfter) <= 30, `retry-after ${retryAfter}`);
    assert.equal(rejected.headers.get('ratelimit'), `"user";r=0;t=${retryAfter}`, 'the rejecting policy, t agreeing with Retry-After');
    assert.equal(rejected.headers.get('ratelimit-policy'), '"ip";q=100;w=60, "user";q=3;w=60');

    const line = gateway.logs.filter((l) => l['msg'] === 'request' && l['status'] === 429).at(-1);
    assert.equal(line?.['rateLimitPolicy'], 'user');
    assert.equal(line?.['rateLimitTier'], 'free');
  });

  test('the address floor: a request its identity’s policy rejects still counts against its address', async () => {
    const gateway = await startTestGateway({
      RATE_LIMIT_IDENTITY: 'jwt,ip',
      JWT_SECRET: secret,
      RATE_LIMIT_POLICIES: JSON.stringify([
        { name: 'ip', key: 'ip', limit: 5, window: 60 },
        { name: 'user', key: 'identity', limit: 2, window: 60 },
      ]),
    });
    gateways.push(gateway);
    // alice: 2 allowed, 2 rejected by `user`; all 4 counted by `ip`.
    assert.deepEqual(await statuses(gateway.url, 4, await bearer('alice')), [200, 200, 429, 429]);
    // bob, same address: one left under `ip`, then `ip` rejects him though `user` would not.
    const bob = await bearer('bob');
    assert.deepEqual(await statuses(gateway.url, 1, bob), [200]);
    const rejected = await postQuery(gateway.url, '{ __typename }', bob);
    assert.equal(rejected.status, 429);
    assert.equal(((await rejected.json()) as ErrorBody).errors[0]?.extensions.policy, 'ip');
  });

  test('an API-key plan with a per-address floor: 10,000 random keys from one address are limited by the address, with no entry per key', async () => {
    const goldKey = 'gold-key-0123456789abcdef';
    const store = new MemoryStore();
    const gateway = await startTestGateway(
      {
        RATE_LIMIT_IDENTITY: 'api-key,ip',
        API_KEYS: JSON.stringify({ [await apiKeyDigest(goldKey)]: { name: 'acme', tier: 'gold' } }),
        RATE_LIMIT_POLICIES: keyPlan,
      },
      { store },
    );
    gateways.push(gateway);
    const gold = await postQuery(gateway.url, '{ __typename }', { 'x-api-key': goldKey });
    assert.equal(gold.status, 200);
    assert.equal(gold.headers.get('ratelimit-policy'), '"ip";q=5;w=60, "plan";q=1000;w=60');

    const counts = new Map<number, number>();
    const batch = 50;
    for (let sent = 0; sent < 10_000; sent += batch) {
      const answers = await Promise.all(
        Array.from({ length: batch }, async () => {
          const response = await postQuery(gateway.url, '{ __typename }', { 'x-api-key': crypto.randomUUID() });
          await response.arrayBuffer();
          return response.status;
        }),
      );
      for (const status of answers) counts.set(status, (counts.get(status) ?? 0) + 1);
    }
    // The gold request took one of the address's five.
    assert.deepEqual(Object.fromEntries(counts), { 200: 4, 429: 9_996 });
    // One entry per policy and key: `ip` on the address, `plan` on the acme key and on the address
    // (an unknown key is no identity: the address is).
    assert.ok(store.size <= 3, `store entries: ${store.size}`);
    // The address is spent, whatever key comes next.
    assert.equal((await postQuery(gateway.url, '{ __typename }', { 'x-api-key': goldKey })).status, 429);
  });

  test('shadow policies are decided and counted, never reject; the log line says what they would have done', async () => {
    const gateway = await startTestGateway({
      RATE_LIMIT_POLICIES: JSON.stringify([
        { name: 'ip', key: 'ip', limit: 100, window: 60 },
        { name: 'strict', key: 'ip', limit: 2, window: 60, mode: 'shadow' },
      ]),
    });
    gateways.push(gateway);
    const answers = await Promise.all([1, 2, 3, 4].map(() => postQuery(gateway.url, '{ __typename }')));
    assert.deepEqual(
      answers.map((r) => r.status),
      [200, 200, 200, 200],
    );
    assert.equal(answers[0]!.headers.get('ratelimit-policy'), '"ip";q=100;w=60', 'shadow policies are not announced');
    const shadowed = gateway.logs.filter((l) => l['msg'] === 'request' && Array.isArray(l['rateLimitShadow']));
    assert.equal(shadowed.length, 2);
    assert.deepEqual(shadowed[0]!['rateLimitShadow'], ['strict']);
  });

  test('sliding window and token bucket policies through the gateway: headers carry each one’s window', async () => {
    const gateway = await startTestGateway({
      RATE_LIMIT_POLICIES: JSON.stringify([
        { name: 'minute', key: 'ip', algorithm: 'sliding-window', limit: 30, window: 60 },
        { name: 'burst', key: 'ip', algorithm: 'token-bucket', limit: 3, refillPerSecond: 0.1 },
      ]),
    });
    gateways.push(gateway);
    const first = await postQuery(gateway.url, '{ __typename }');
    assert.equal(
      first.headers.get('ratelimit-policy'),
      '"minute";q=30;w=60, "burst";q=3;w=30',
      'a bucket’s w: the time to fill from empty',
    );
    assert.deepEqual(await statuses(gateway.url, 3), [200, 200, 429], 'the bucket holds 3');
    const rejected = await postQuery(gateway.url, '{ __typename }');
    assert.equal(((await rejected.json()) as ErrorBody).errors[0]?.extensions.policy, 'burst');
    const retryAfter = Number(rejected.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 10, `one token refills in 10 s: retry-after ${retryAfter}`);
  });

  test('on Redis: the address’s and the identity’s policies in two calls, each charging its own; keys under one hash tag per key', async () => {
    const prefix = uniquePrefix('policies-gw');
    const admin = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    await admin.connect();
    const store = createStore({ redisUrl: 'redis://127.0.0.1:6379', keyPrefix: prefix, timeoutMs: 1000 }, { log: silentLogger });
    try {
      const gateway = await startTestGateway(
        {
          RATE_LIMIT_IDENTITY: 'jwt,ip',
          JWT_SECRET: secret,
          JWT_TIER_CLAIM: 'plan',
          RATE_LIMIT_POLICIES: JSON.stringify([
            { name: 'ip', key: 'ip', limit: 6, window: 60 },
            { name: 'user', key: 'identity', algorithm: 'sliding-window', limit: { default: 2, pro: 4 }, window: 60 },
            { name: 'burst', key: 'identity', algorithm: 'token-bucket', limit: 10, refillPerSecond: 1 },
          ]),
        },
        { store },
      );
      gateways.push(gateway);
      await store.connect?.(AbortSignal.timeout(5000));
      assert.deepEqual(await statuses(gateway.url, 3, await bearer('carol')), [200, 200, 429]);
      assert.deepEqual(await statuses(gateway.url, 5, await bearer('dave', 'pro')), [200, 200, 200, 429, 429], 'ip: 6 in all');
      const keys = (await admin.keys(`${prefix}*`)).sort();
      assert.deepEqual(
        keys.map((k) => k.slice(prefix.length)),
        ['{127.0.0.1}:ip:count', '{jwt:carol}:burst:tb', '{jwt:carol}:user:sw', '{jwt:dave}:burst:tb', '{jwt:dave}:user:sw'],
      );
      for (const key of keys) assert.ok((await admin.pttl(key)) > 0, `${key} expires`);
    } finally {
      await deleteKeys(admin, prefix);
      admin.disconnect();
    }
  });
});
