// Identity (RATE_LIMIT_IDENTITY): verified JWTs and API keys decide the rate-limit key, namespaced by
// source; forged tokens, unknown keys and a broken JWKS endpoint fall back to the address.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SignJWT, UnsecuredJWT, base64url } from 'jose';
import { parseConfig, ConfigError, type IdentityConfig } from '../src/config.js';
import { apiKeyDigest, apiKeyIdentity, parseApiKeys } from '../src/identity/apiKeys.js';
import { bearerToken, createJwtVerifier, type JwtConfig } from '../src/identity/jwt.js';
import { compose, type Step } from '../src/lifecycle/compose.js';
import { RequestContext } from '../src/lifecycle/context.js';
import { clientIdentity } from '../src/lifecycle/steps/clientIdentity.js';
import { errorShape } from '../src/lifecycle/steps/errorShape.js';
import { credentialRequired, identity } from '../src/lifecycle/steps/identity.js';
import { rateLimit } from '../src/lifecycle/steps/rateLimit.js';
import { parseTrustProxy } from '../src/identity/trustProxy.js';
import { silentLogger } from '../src/log.js';
import { MemoryStore } from '../src/ratelimit/memoryStore.js';
import { defaultPolicy, type Check } from '../src/ratelimit/policy.js';
import { defaultPolicies } from '../src/ratelimit/policies.js';
import { createObservability } from '../src/observability/observability.js';
import { signingKey, signToken, startJwksServer, type JwksServer, type SigningKey } from './support/jwks.js';

const secret = 'a-test-secret-of-at-least-32-bytes!!';

/** A memory store that remembers every key it was asked about. */
class RecordingStore extends MemoryStore {
  readonly keys = new Set<string>();
  override async decide(key: string, checks: readonly Check[]) {
    this.keys.add(key);
    return super.decide(key, checks);
  }
}

function identityConfig(env: Record<string, string>): IdentityConfig {
  return parseConfig(env, 'node').identity;
}

/** Client identity, identity, the rate limit and the credential check, then a 200. */
function lifecycle(config: IdentityConfig, store = new RecordingStore(), now?: () => number) {
  const steps: Step<RequestContext>[] = [
    clientIdentity(parseTrustProxy('none')!),
    identity(config, { now }),
    rateLimit({ store, policies: defaultPolicies(defaultPolicy), log: silentLogger, now: () => performance.now() }),
    credentialRequired(),
    async (c) => {
      c.response = new Response('{"data":{}}', { status: 200 });
    },
  ];
  const run = compose(steps, errorShape({ development: false, log: silentLogger }));
  return {
    store,
    async request(headers: Record<string, string> = {}, address = '203.0.113.9', path = '/graphql') {
      const c = new RequestContext(
        new Request(`http://gateway.test${path}`, { headers }),
        { waitUntil() {}, clientAddress: address },
        path,
      );
      await run(c);
      return c;
    },
  };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('configuration of identity', () => {
  test('default: the address only, nothing required', () => {
    const config = identityConfig({});
    assert.deepEqual(config.sources, ['ip']);
    assert.equal(config.jwt, undefined);
    assert.equal(config.jwtRequired, false);
    assert.equal(config.apiKeyHeader, 'x-api-key');
  });

  test('bad values stop start-up naming the variable', () => {
    const bad: [Record<string, string>, string][] = [
      [{ RATE_LIMIT_IDENTITY: 'jwt,cookie' }, 'RATE_LIMIT_IDENTITY'],
      [{ RATE_LIMIT_IDENTITY: 'ip,ip' }, 'RATE_LIMIT_IDENTITY'],
      [{ RATE_LIMIT_IDENTITY: 'jwt,ip' }, 'RATE_LIMIT_IDENTITY'], // no keys to verify with
      [{ JWT_SECRET: secret, JWT_JWKS_URL: 'https://idp.example/jwks' }, 'JWT_SECRET'],
      [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
      [{ JWT_JWKS_URL: 'file:///etc/jwks' }, 'JWT_JWKS_URL'],
      [{ JWT_REQUIRED: 'true' }, 'JWT_REQUIRED'],
      [{ API_KEY_REQUIRED: 'true' }, 'API_KEY_REQUIRED'],
      [{ API_KEYS: '{"nothex":{"name":"a"}}' }, 'API_KEYS'],
      [{ API_KEYS: `{"${'a'.repeat(64)}":{"tier":"pro"}}` }, 'API_KEYS'],
      [{ API_KEYS: 'not json' }, 'API_KEYS'],
    ];
    for (const [env, variable] of bad) {
      assert.throws(
        () => parseConfig(env, 'worker'),
        (error: unknown) => error instanceof ConfigError && error.variable === variable,
        JSON.stringify(env),
      );
    }
  });

  test('the secret never appears in an error message', () => {
    assert.throws(
      () => parseConfig({ JWT_SECRET: 'short-secret-value' }, 'node'),
      (error: Error) => !error.message.includes('short-secret-value'),
    );
  });
});

describe('JWT with a shared secret (HS256)', () => {
  const key = new TextEncoder().encode(secret);
  const jwt: JwtConfig = {
    ...identityConfig({ JWT_SECRET: secret }).jwt!,
    issuer: 'https://idp.example',
    audience: 'tollgate',
    tierClaim: 'plan',
  };
  const now = Date.parse('2026-06-01T12:00:00Z');
  const nowS = now / 1000;
  const verify = createJwtVerifier(jwt, { now: () => now });
  const sign = (payload: Record<string, unknown>, alg = 'HS256') =>
    new SignJWT({ iss: 'https://idp.example', aud: 'tollgate', iat: nowS, exp: nowS + 600, ...payload })
      .setProtectedHeader({ alg })
      .sign(key);

  test('a valid token names the identity and its tier', async () => {
    assert.deepEqual(await verify(await sign({ sub: 'alice', plan: 'pro' })), {
      source: 'jwt',
      id: 'alice',
      tier: 'pro',
      key: 'jwt:alice',
    });
    assert.equal((await verify(await sign({ sub: 'bob' })))?.tier, 'default');
  });

  test('a verified token is remembered for a minute, never past its exp; one that failed is verified again', async () => {
    let clock = now;
    const remembering = createJwtVerifier(jwt, { now: () => clock });
    const token = await sign({ sub: 'carol', exp: nowS + 90 });
    assert.equal((await remembering(token))?.id, 'carol');
    clock = now + 89_000; // remembered: verified a minute ago at most, and before its exp
    assert.equal((await remembering(token))?.id, 'carol');
    clock = now + 121_000; // past exp and the 30 s tolerance: neither the memory nor jose accepts it
    assert.equal(await remembering(token), undefined);
    // A token not yet valid fails, is not remembered, and passes once its nbf has come.
    clock = now;
    const early = await sign({ sub: 'dave', nbf: nowS + 60 });
    assert.equal(await remembering(early), undefined);
    clock = now + 61_000;
    assert.equal((await remembering(early))?.id, 'dave');
  });

  test('expired, not yet valid, wrong iss/aud, no sub, alg none, truncated: no identity', async () => {
    const forged = [
      await sign({ sub: 'alice', exp: nowS - 31 }), // beyond the 30 s tolerance
      await sign({ sub: 'alice', nbf: nowS + 31 }),
      await sign({ sub: 'alice', iss: 'https://evil.example' }),
      await sign({ sub: 'alice', aud: 'other' }),
      await sign({ plan: 'pro' }),
      await sign({ sub: '' }),
      await sign({ sub: 'x'.repeat(257) }),
      new UnsecuredJWT({ sub: 'alice', iss: 'https://idp.example', aud: 'tollgate', exp: nowS + 60 }).encode(),
      (await sign({ sub: 'alice' })).slice(0, -5),
      (await sign({ sub: 'alice' })).split('.').slice(0, 2).join('.'),
    ];
    for (const token of forged) assert.equal(await verify(token), undefined, token.slice(0, 60));
    // Within the tolerance, expiry and not-before still pass.
    assert.equal((await verify(await sign({ sub: 'alice', exp: nowS - 29 })))?.id, 'alice');
    assert.equal((await verify(await sign({ sub: 'alice', nbf: nowS + 29 })))?.id, 'alice');
  });

  test('a token signed with another secret is refused', async () => {
    const other = await new SignJWT({ sub: 'alice', iss: 'https://idp.example', aud: 'tollgate', exp: nowS + 60 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('another-secret-of-at-least-32-bytes!'));
    assert.equal(await verify(other), undefined);
  });

  test('Authorization: only `Bearer <token>` of bounded length is read; 64 KB of garbage is refused unread', () => {
    assert.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi');
    assert.equal(bearerToken('bearer abc.def.ghi'), 'abc.def.ghi');
    assert.equal(bearerToken('Basic YWxhZGRpbjpvcGVuc2VzYW1l'), undefined);
    assert.equal(bearerToken('Bearer a b'), undefined);
    assert.equal(bearerToken(null), undefined);
    assert.equal(bearerToken(`Bearer ${'A'.repeat(64 * 1024)}`), undefined);
  });
});

describe('JWT against a JWKS endpoint (a real local HTTP server)', () => {
  let rsa: SigningKey;
  let ec: SigningKey;
  let ed: SigningKey;
  let jwks: JwksServer;
  before(async () => {
    [rsa, ec, ed] = await Promise.all([signingKey('rsa-1', 'RS256'), signingKey('ec-1', 'ES256'), signingKey('ed-1', 'EdDSA')]);
    jwks = await startJwksServer([rsa, ec, ed]);
  });
  after(() => jwks.close());

  const config = (extra: Partial<JwtConfig> = {}): JwtConfig => ({
    ...identityConfig({ JWT_JWKS_URL: jwks.url }).jwt!,
    jwksTimeoutMs: 300,
    ...extra,
  });

  test('RS256, ES256 and EdDSA tokens verify; the keys are fetched once and cached', async () => {
    jwks.hits = 0;
    const verify = createJwtVerifier(config());
    for (const key of [rsa, ec, ed])
      assert.equal((await verify(await signToken(key, { sub: `user-${key.kid}` })))?.key, `jwt:user-${key.kid}`);
    assert.equal(jwks.hits, 1);
  });

  test('HS256 signed with the RSA public key, alg none, and an unknown kid: no identity', async () => {
    const verify = createJwtVerifier(config());
    const nowS = Math.floor(Date.now() / 1000);
    // The classic confusion: the public key (as published) used as an HMAC secret.
    const confused = await new SignJWT({ sub: 'mallory', exp: nowS + 60 })
      .setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
      .sign(new TextEncoder().encode(JSON.stringify(rsa.jwk)));
    const confusedN = await new SignJWT({ sub: 'mallory', exp: nowS + 60 })
      .setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
      .sign(base64url.decode(rsa.jwk.n!));
    const none = `${base64url.encode(JSON.stringify({ alg: 'none', kid: rsa.kid }))}.${base64url.encode(JSON.stringify({ sub: 'mallory', exp: nowS + 60 }))}.`;
    const stranger = await signingKey('not-published');
    for (const token of [confused, confusedN, none, await signToken(stranger, { sub: 'mallory' })]) {
      assert.equal(await verify(token), undefined);
    }
  });

  test('an unknown kid refetches at most once per cooldown', async () => {
    let now = Date.now();
    const verify = createJwtVerifier(config(), { now: () => now });
    assert.ok(await verify(await signToken(rsa, { sub: 'a' })));
    jwks.hits = 0;
    const stranger = await signingKey('unknown-kid');
    now += 31_000; // the first fetch starts a cooldown too
    for (let i = 0; i < 20; i++) assert.equal(await verify(await signToken(stranger, { sub: 'mallory' })), undefined);
    assert.equal(jwks.hits, 1, 'one refetch for twenty unknown-kid tokens');
    now += 31_000;
    await verify(await signToken(stranger, { sub: 'mallory' }));
    assert.equal(jwks.hits, 2, 'another after the cooldown');
  });

  test('keys rotated at the endpoint: the new kid is fetched and verifies; tokens of the old keys still verify until refetch', async () => {
    let now = Date.now();
    const verify = createJwtVerifier(config(), { now: () => now });
    const before = await signToken(rsa, { sub: 'a' });
    assert.ok(await verify(before));
    const rotated = await signingKey('rsa-2');
    jwks.keys = [rotated];
    try {
      assert.equal(
        await verify(await signToken(rotated, { sub: 'b' })),
        undefined,
        'within the cooldown of the first fetch: not refetched',
      );
      now += 31_000;
      assert.equal((await verify(await signToken(rotated, { sub: 'b' })))?.id, 'b', 'unknown kid: refetched');
      assert.equal(await verify(await signToken(rsa, { sub: 'a2' })), undefined, 'the retired key is gone with the refetch');
      // A token verified before the rotation is taken on trust for the rest of its minute, no longer.
      assert.equal((await verify(before))?.id, 'a');
      now += 30_000;
      assert.equal(await verify(before), undefined, 'past the minute it is verified again, against the new keys');
    } finally {
      jwks.keys = [rsa, ec, ed];
    }
  });

  test('rotation mid-load: concurrent requests during the refetch all finish; later ones verify', async () => {
    let now = Date.now();
    const verify = createJwtVerifier(config({ jwksTimeoutMs: 2000 }), { now: () => now });
    assert.ok(await verify(await signToken(rsa, { sub: 'a' })));
    const rotated = await signingKey('rsa-3');
    jwks.keys = [rsa, rotated];
    jwks.delayMs = 200;
    now += 31_000;
    const tokens = await Promise.all(Array.from({ length: 30 }, (_, i) => signToken(i % 2 ? rotated : rsa, { sub: `u${i}` })));
    const started = Date.now();
    const results = await Promise.all(tokens.map((t) => verify(t)));
    assert.ok(Date.now() - started < 1500, 'none waits past the fetch');
    // Old-key tokens verify throughout; new-key ones once the keys are in (or fall to the next source before).
    for (const [i, r] of results.entries()) if (i % 2 === 0) assert.equal(r?.id, `u${i}`);
    assert.ok(
      results.some((r, i) => i % 2 === 1 && r?.id === `u${i}`),
      'the request that refetched verifies with the new key',
    );
    jwks.delayMs = 0;
    jwks.keys = [rsa, ec, ed];
    assert.equal((await verify(await signToken(rotated, { sub: 'later' })))?.id, 'later', 'the new key is cached');
  });

  for (const behaviour of ['hang', '500', 'html'] as const) {
    test(`a JWKS endpoint that ${behaviour === 'hang' ? 'hangs' : `answers ${behaviour}`}: bounded by the deadline, no identity, the address decides`, async () => {
      jwks.behaviour = behaviour;
      try {
        const config = parseConfig({ RATE_LIMIT_IDENTITY: 'jwt,ip', JWT_JWKS_URL: jwks.url, JWT_JWKS_TIMEOUT_MS: '300' }, 'node').identity;
        const gateway = lifecycle(config);
        const token = await signToken(rsa, { sub: 'alice' });
        const started = Date.now();
        const answers = await Promise.all(Array.from({ length: 5 }, () => gateway.request(bearer(token))));
        assert.ok(Date.now() - started < 1500, `bounded (${Date.now() - started} ms)`);
        for (const c of answers) {
          assert.equal(c.response.status, 200);
          assert.equal(c.identity?.source, 'ip');
          assert.equal(c.clientKey, '203.0.113.9');
        }
        // After the failure, requests do not wait on the endpoint again within the cooldown.
        const quick = Date.now();
        await gateway.request(bearer(token));
        assert.ok(Date.now() - quick < 100);
      } finally {
        jwks.behaviour = 'ok';
      }
    });
  }
});

describe('API keys', () => {
  test('a listed key names the identity and tier; unknown, empty and oversized keys do not', async () => {
    const table = parseApiKeys(JSON.stringify({ [await apiKeyDigest('sk_live_acme')]: { name: 'acme', tier: 'pro' } }));
    assert.ok(typeof table !== 'string');
    assert.deepEqual(await apiKeyIdentity('sk_live_acme', table), { source: 'api-key', id: 'acme', tier: 'pro', key: 'key:acme' });
    for (const value of ['sk_live_acmf', '', null, 'x'.repeat(10_000)]) assert.equal(await apiKeyIdentity(value, table), undefined);
  });

  test('10,000 random keys from one address: no identity, the address is the one store key, memory bounded', async () => {
    const digest = await apiKeyDigest('sk_live_acme');
    const config = identityConfig({ RATE_LIMIT_IDENTITY: 'api-key,ip', API_KEYS: JSON.stringify({ [digest]: { name: 'acme' } }) });
    const gateway = lifecycle(config);
    const statuses = new Map<number, number>();
    for (let i = 0; i < 10_000; i++) {
      const c = await gateway.request({ 'x-api-key': crypto.randomUUID() });
      statuses.set(c.response.status, (statuses.get(c.response.status) ?? 0) + 1);
    }
    assert.deepEqual([...gateway.store.keys], ['203.0.113.9'], 'one store key: the address');
    assert.equal(gateway.store.size, 1);
    assert.deepEqual(Object.fromEntries(statuses), { 200: 50, 429: 9950 });
  });
});

describe('the identity step in the lifecycle', () => {
  let key: SigningKey;
  let jwks: JwksServer;
  let digest: string;
  before(async () => {
    key = await signingKey('k1');
    jwks = await startJwksServer([key]);
    digest = await apiKeyDigest('sk_live_alice');
  });
  after(() => jwks.close());

  const env = (extra: Record<string, string> = {}) =>
    identityConfig({
      RATE_LIMIT_IDENTITY: 'jwt,api-key,ip',
      JWT_JWKS_URL: jwks.url,
      JWT_TIER_CLAIM: 'plan',
      API_KEYS: JSON.stringify({ [digest]: { name: 'alice', tier: 'gold' } }),
      ...extra,
    });

  test('store keys are namespaced by source: a key named alice is not the user alice; the address key is as before', async () => {
    const gateway = lifecycle(env());
    const byJwt = await gateway.request(bearer(await signToken(key, { sub: 'alice', plan: 'pro' })));
    const byKey = await gateway.request({ 'x-api-key': 'sk_live_alice' });
    const byAddress = await gateway.request({}, '2001:db8:1:2:3:4:5:6');
    assert.deepEqual([byJwt.clientKey, byKey.clientKey, byAddress.clientKey], ['jwt:alice', 'key:alice', '2001:db8:1:2::/64']);
    assert.deepEqual([byJwt.identity?.tier, byKey.identity?.tier, byAddress.identity?.tier], ['pro', 'gold', 'default']);
    assert.deepEqual([...gateway.store.keys].sort(), ['2001:db8:1:2::/64', 'jwt:alice', 'key:alice']);
    assert.equal(byJwt.response.headers.get('ratelimit'), '"default";r=49;t=60', 'each identity counts on its own');
    assert.equal(byKey.response.headers.get('ratelimit'), '"default";r=49;t=60');
  });

  test('the order of RATE_LIMIT_IDENTITY decides which credential wins', async () => {
    const headers = { ...bearer(await signToken(key, { sub: 'bob' })), 'x-api-key': 'sk_live_alice' };
    assert.equal((await lifecycle(env()).request(headers)).clientKey, 'jwt:bob');
    assert.equal((await lifecycle(env({ RATE_LIMIT_IDENTITY: 'api-key,jwt' })).request(headers)).clientKey, 'key:alice');
    assert.equal((await lifecycle(env({ RATE_LIMIT_IDENTITY: 'ip,jwt' })).request(headers)).clientKey, '203.0.113.9');
  });

  test('JWT_REQUIRED: 401 UNAUTHENTICATED with WWW-Authenticate on /graphql without a valid token; exempt paths pass', async () => {
    const gateway = lifecycle(env({ JWT_REQUIRED: 'true' }));
    for (const headers of [
      {} as Record<string, string>,
      bearer('garbage'),
      { authorization: `Bearer ${'A'.repeat(64 * 1024)}` },
      { 'x-api-key': 'sk_live_alice' },
    ]) {
      const c = await gateway.request(headers);
      assert.equal(c.response.status, 401);
      assert.equal(c.response.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
      const body = (await c.response.json()) as { errors: { extensions: { code: string } }[] };
      assert.equal(body.errors[0]?.extensions.code, 'UNAUTHENTICATED');
      assert.ok(c.response.headers.get('ratelimit'), 'counted (under the address) before the 401');
    }
    assert.equal((await gateway.request(bearer(await signToken(key, { sub: 'alice' })))).response.status, 200);
    assert.equal((await gateway.request({}, '203.0.113.9', '/elsewhere')).response.status, 200, 'only /graphql requires a credential');
  });

  test('API_KEY_REQUIRED alone, and with JWT_REQUIRED either credential suffices', async () => {
    const keyOnly = lifecycle(env({ API_KEY_REQUIRED: 'true' }));
    assert.equal((await keyOnly.request(bearer(await signToken(key, { sub: 'alice' })))).response.status, 401);
    assert.equal((await keyOnly.request({ 'x-api-key': 'sk_live_alice' })).response.status, 200);
    assert.equal((await keyOnly.request({ 'x-api-key': 'sk_live_nobody' })).response.status, 401);
    const either = lifecycle(env({ API_KEY_REQUIRED: 'true', JWT_REQUIRED: 'true' }));
    assert.equal((await either.request(bearer(await signToken(key, { sub: 'alice' })))).response.status, 200);
    assert.equal((await either.request({ 'x-api-key': 'sk_live_alice' })).response.status, 200);
    assert.equal((await either.request({})).response.status, 401);
  });

  test('a bad-credential flood is still rate limited by its address', async () => {
    const gateway = lifecycle(env({ JWT_REQUIRED: 'true' }));
    const statuses = [];
    for (let i = 0; i < 52; i++) statuses.push((await gateway.request(bearer(`forged.${i}.token`))).response.status);
    assert.deepEqual(statuses.slice(48), [401, 401, 429, 429]);
  });

  test('the request line: the identity namespaced and hashed, its source and tier; an address identity adds nothing', async () => {
    const observability = createObservability(parseConfig({ LOG_SALT: 'salt' }, 'node').observability, {
      log: { ...silentLogger, enabled: () => true },
      store: new MemoryStore(),
    });
    const gateway = lifecycle(env());
    const event = (c: RequestContext) => ({
      requestId: 'r',
      method: 'GET',
      path: '/graphql',
      status: 200,
      clientKey: c.clientKey,
      address: c.address,
      identity: c.identity,
      rateLimit: c.rateLimit,
      rateLimitMs: 0,
      cost: undefined,
      actualCost: undefined,
      gatewayMs: 0,
      totalMs: 0,
      runtimeRequest: undefined,
    });
    const fields = observability.observe(
      event(await gateway.request(bearer(await signToken(key, { sub: 'alice', plan: 'pro' })))),
    ) as Record<string, unknown>;
    assert.match(String(fields['identity']), /^jwt:[0-9a-f]{16}$/);
    assert.ok(!JSON.stringify(fields).includes('alice'));
    assert.equal(fields['identitySource'], 'jwt');
    assert.equal(fields['tier'], 'pro');
    assert.match(String(fields['client']), /^[0-9a-f]{16}$/);
    const byKey = observability.observe(event(await gateway.request({ 'x-api-key': 'sk_live_alice' }))) as Record<string, unknown>;
    assert.match(String(byKey['identity']), /^key:[0-9a-f]{16}$/);
    assert.notEqual(String(byKey['identity']).slice(4), String(fields['identity']).slice(4), 'key:alice and jwt:alice hash apart');
    assert.ok(!JSON.stringify(byKey).includes('sk_live'));
    const byAddress = observability.observe(event(await gateway.request({}))) as Record<string, unknown>;
    assert.deepEqual(Object.keys(byAddress), ['client']);
    const inClear = createObservability(parseConfig({ LOG_CLIENT_IP: 'true' }, 'node').observability, {
      log: { ...silentLogger, enabled: () => true },
      store: new MemoryStore(),
    });
    const clear = inClear.observe(event(await gateway.request({ 'x-api-key': 'sk_live_alice' }))) as Record<string, unknown>;
    assert.equal(clear['identity'], 'key:alice');
  });
});

describe('API_KEYS from a file on Node', () => {
  test('a path is read; a missing file stops start-up naming API_KEYS', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { withFileVariables } = await import('../src/node/fileVariables.js');
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-keys-'));
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify({ [await apiKeyDigest('sk_file')]: { name: 'from-file', tier: 'pro' } }));
    const config = parseConfig(withFileVariables({ RATE_LIMIT_IDENTITY: 'api-key,ip', API_KEYS: file }), 'node').identity;
    assert.equal((await apiKeyIdentity('sk_file', config.apiKeys))?.key, 'key:from-file');
    assert.throws(
      () => withFileVariables({ API_KEYS: join(dir, 'missing.json') }),
      (error: unknown) => error instanceof ConfigError && error.variable === 'API_KEYS',
    );
  });
});
