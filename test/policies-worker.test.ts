// Several policies in workerd with the built bundle (npm run build:worker), decided through the
// Upstash REST stand-in (a process of its own relaying to a private redis-server): JWT tiers,
// the address floor, a token bucket exact under a concurrent burst, and RATE_LIMIT_POLICIES given
// as a JSON variable (wrangler's `[vars]` hand the Worker a parsed value, not text).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { startUpstashRestProcess, type UpstashRestProcess } from './support/upstash-rest-process.js';
import { startWorker, type TestWorker } from './support/worker.js';

const secret = 'a-workerd-hs256-secret-of-32-bytes!';
const token = (sub: string, plan?: string) =>
  new SignJWT({ sub, exp: Math.floor(Date.now() / 1000) + 600, ...(plan && { plan }) })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(secret));

const policies = [
  { name: 'ip', key: 'ip', limit: 8, window: 60, penalty: 30 },
  { name: 'user', key: 'identity', algorithm: 'sliding-window', limit: { default: 3, pro: 6 }, window: 60 },
  { name: 'burst', key: 'identity', algorithm: 'token-bucket', limit: 4, refillPerSecond: 0.01 },
];

interface Answer {
  readonly status: number;
  readonly policy: string | undefined;
  readonly rateLimit: string | null;
  readonly rateLimitPolicy: string | null;
}

describe('policies in workerd over the Upstash REST stand-in (built bundle)', () => {
  let redis: RedisServer;
  let rest: UpstashRestProcess;
  let worker: TestWorker;
  before(async () => {
    redis = await startRedisServer();
    rest = await startUpstashRestProcess({ redisUrl: redis.url });
    worker = await startWorker({
      UPSTASH_REDIS_REST_URL: rest.url,
      UPSTASH_REDIS_REST_TOKEN: rest.token,
      // A generous deadline: this test is about the decisions, not about failing open.
      RATE_LIMIT_TIMEOUT_MS: '2000',
      RATE_LIMIT_IDENTITY: 'jwt,ip',
      JWT_SECRET: secret,
      JWT_TIER_CLAIM: 'plan',
      RATE_LIMIT_POLICIES: policies,
    });
  });
  after(async () => {
    await worker?.dispose();
    await rest?.close();
    await redis?.stop();
  });

  async function query(clientIp: string, bearer?: string): Promise<Answer> {
    const response = await worker.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify({ query: '{ __typename }' }),
      clientIp,
    });
    const body = (await response.json()) as { errors?: { extensions?: { policy?: string } }[] };
    return {
      status: response.status,
      policy: body.errors?.[0]?.extensions?.policy,
      rateLimit: response.headers.get('ratelimit'),
      rateLimitPolicy: response.headers.get('ratelimit-policy'),
    };
  }

  test('a default-tier user: three in the sliding window, then 429 naming `user`; headers list the three policies', async () => {
    const alice = await token('alice');
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await query('192.0.2.10', alice));
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 429],
    );
    assert.equal(answers[0]!.rateLimitPolicy, '"ip";q=8;w=60, "user";q=3;w=60, "burst";q=4;w=400');
    assert.match(answers[0]!.rateLimit ?? '', /^"user";r=2;t=\d+$/, 'user: 2 of 3 left is the smallest share');
    assert.equal(answers[3]!.policy, 'user');
  });

  test('a pro user’s burst of 12 concurrent requests from 12 addresses: exactly 4 pass, by the token bucket', async () => {
    const bob = await token('bob', 'pro');
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => query(`198.51.100.${i + 1}`, bob)));
    const passed = answers.filter((a) => a.status === 200).length;
    assert.equal(passed, 4);
    for (const a of answers.filter((a) => a.status === 429)) assert.equal(a.policy, 'burst');
    const unshared = worker.logs.filter((l) => l['msg'] === 'request' && l['rateLimitSource'] !== undefined);
    assert.deepEqual(unshared, [], 'every decision was the store’s');
  });

  test('the address floor: ten users from one address, eight pass, then `ip` rejects and its block holds', async () => {
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await query('203.0.113.50', await token(`user-${i}`)));
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200, 200, 200, 200, 200, 429, 429],
    );
    assert.deepEqual(
      answers.slice(8).map((a) => a.policy),
      ['ip', 'ip'],
    );
    const anonymous = await query('203.0.113.50');
    assert.equal(anonymous.status, 429, 'the address is blocked whoever asks');
    assert.equal(anonymous.policy, 'ip');
  });
});
