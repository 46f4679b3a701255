// JWT identity in workerd with the built bundle (npm run build:worker): keys fetched from a real
// local JWKS endpoint per request, cached as keys; concurrent requests while the keys are
// refetched all finish (a promise shared across requests would hang there).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startWorker, type TestWorker } from './support/worker.js';
import { signingKey, signToken, startJwksServer, type JwksServer, type SigningKey } from './support/jwks.js';

describe('JWT identity in workerd (built bundle)', () => {
  let worker: TestWorker;
  let jwks: JwksServer;
  // The key the endpoint publishes at first (ES256), and the one it rotates in (RS256).
  let first!: SigningKey, second!: SigningKey;
  before(async () => {
    first = await signingKey('k1', 'ES256');
    second = await signingKey('k2', 'RS256');
    jwks = await startJwksServer([first]);
    worker = await startWorker({
      RATE_LIMIT_IDENTITY: 'jwt,ip',
      JWT_JWKS_URL: jwks.url,
      JWT_JWKS_COOLDOWN_SECONDS: '1',
      JWT_JWKS_TIMEOUT_MS: '2000',
      JWT_TIER_CLAIM: 'plan',
      LOG_SALT: 'test-salt',
    });
  });
  after(async () => {
    await worker?.dispose();
    await jwks?.close();
  });

  const query = (token: string | undefined, clientIp: string, requestId: string) =>
    worker.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: '{ __typename }' }),
      clientIp,
    });

  test('a verified token is the identity: its own count, its tier and hashed identity on the log line', async () => {
    const token = await signToken(first, { sub: 'alice', plan: 'pro' });
    const concurrent = await Promise.all(Array.from({ length: 5 }, (_, i) => query(token, `192.0.2.${i + 1}`, `warm-${i}`)));
    for (const response of concurrent) assert.equal(response.status, 200);
    const remaining = concurrent.map((r) => r.headers.get('ratelimit')).sort();
    assert.deepEqual(
      remaining,
      [45, 46, 47, 48, 49].map((r) => `"default";r=${r};t=60`),
      'five addresses, one identity',
    );
    const line = await worker.waitForLog((l) => l['msg'] === 'request' && l['requestId'] === 'warm-0');
    assert.equal(line['identitySource'], 'jwt');
    assert.equal(line['tier'], 'pro');
    assert.match(String(line['identity']), /^jwt:[0-9a-f]{16}$/);
    assert.ok(!JSON.stringify(worker.logs).includes('alice'), 'the identity never in clear');
  });

  test('concurrent requests during a key refetch: none hangs, none fails; the new key then verifies', async () => {
    jwks.keys = [first, second];
    jwks.delayMs = 300;
    await new Promise((r) => setTimeout(r, 1100)); // past the cooldown of the first fetch
    const hitsBefore = jwks.hits;
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => signToken(i % 2 ? second : first, { sub: `user-${i}` })));
    const started = Date.now();
    const responses = await Promise.all(tokens.map((token, i) => query(token, `198.51.100.${i + 1}`, `rotate-${i}`)));
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 10_000, `all answered (${elapsed} ms)`);
    for (const response of responses) assert.equal(response.status, 200);
    assert.ok(jwks.hits - hitsBefore >= 1, 'the keys were refetched');
    jwks.delayMs = 0;
    const after = await query(await signToken(second, { sub: 'bob' }), '198.51.100.200', 'rotated');
    assert.equal(after.status, 200);
    const line = await worker.waitForLog((l) => l['msg'] === 'request' && l['requestId'] === 'rotated');
    assert.equal(line['identitySource'], 'jwt');
    assert.deepEqual(
      worker.logs.filter((l) => l['level'] === 'error'),
      [],
    );
  });

  test('forged and garbage tokens fall back to the address', async () => {
    const stranger = await signingKey('k9');
    const forged = [await signToken(stranger, { sub: 'mallory' }), 'abc.def.ghi', 'A'.repeat(64 * 1024)];
    for (const [i, token] of forged.entries()) {
      const response = await query(token, '203.0.113.77', `forged-${i}`);
      assert.equal(response.status, 200);
      const line = await worker.waitForLog((l) => l['msg'] === 'request' && l['requestId'] === `forged-${i}`);
      assert.equal(line['identitySource'], undefined);
    }
  });
});
