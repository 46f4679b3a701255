// Identity through the whole Node gateway (createTollgate, node:http): HS256 tokens decide the
// rate-limit key; JWT_REQUIRED answers 401 even with rate limiting off.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { closeDemo, postQuery, startTestGateway, type TestGateway } from './support/gateway.js';

const secret = 'an-hs256-secret-of-at-least-32-bytes';
const token = (sub: string) =>
  new SignJWT({ sub, exp: Math.floor(Date.now() / 1000) + 600 })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(secret));

describe('identity in the Node gateway', () => {
  const gateways: TestGateway[] = [];
  after(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await closeDemo();
  });

  test('RATE_LIMIT_IDENTITY=jwt,ip: a user counts on its own, an anonymous client on its address', async () => {
    const gateway = await startTestGateway({ RATE_LIMIT_IDENTITY: 'jwt,ip', JWT_SECRET: secret, RATE_LIMIT_MAX_REQUESTS: '2' });
    gateways.push(gateway);
    const alice = { authorization: `Bearer ${await token('alice')}` };
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await postQuery(gateway.url, '{ __typename }', alice)).status);
    assert.deepEqual(statuses, [200, 200, 429], 'alice is limited');
    assert.equal((await postQuery(gateway.url, '{ __typename }')).status, 200, 'the same address without a token is not alice');
    assert.equal((await postQuery(gateway.url, '{ __typename }', { authorization: `Bearer ${await token('bob')}` })).status, 200);
  });

  test('JWT_REQUIRED with rate limiting off: 401 with WWW-Authenticate; a valid token passes', async () => {
    const gateway = await startTestGateway({ JWT_SECRET: secret, JWT_REQUIRED: 'true', RATE_LIMIT_ENABLED: 'false' });
    gateways.push(gateway);
    const refused = await postQuery(gateway.url, '{ __typename }', { authorization: 'Bearer not.a.token' });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
    assert.equal(refused.headers.get('ratelimit'), null);
    const body = (await refused.json()) as { errors: { extensions: { code: string; requestId: string } }[] };
    assert.equal(body.errors[0]?.extensions.code, 'UNAUTHENTICATED');
    assert.equal(body.errors[0]?.extensions.requestId, refused.headers.get('x-request-id'));
    assert.equal((await postQuery(gateway.url, '{ __typename }', { authorization: `Bearer ${await token('alice')}` })).status, 200);
    assert.equal((await fetch(`${gateway.url}/healthcheck`)).status, 200);
  });
});
