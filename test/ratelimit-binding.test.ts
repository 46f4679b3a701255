// RATE_LIMIT_STORE=cloudflare in workerd with the built bundle (npm run build:worker) and
// Miniflare's Rate Limiting binding: its answers and the headers that say only what a yes/no
// answer tells; policies a binding cannot count answer every request 503 and log why. Miniflare's
// binding is an exact per-process counter in windows aligned to the clock; production counts per
// location, approximately, so nothing here is a claim of exactness.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startWorker, type TestWorker } from './support/worker.js';

const store = { RATE_LIMIT_STORE: 'cloudflare', RATE_LIMIT_PENALTY_SECONDS: '0', RATE_LIMIT_TIMEOUT_MS: '2000' };

async function answer(worker: TestWorker, clientIp: string, requestId?: string) {
  const response = await worker.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(requestId ? { 'x-request-id': requestId } : {}) },
    body: JSON.stringify({ query: '{ __typename }' }),
    clientIp,
  });
  const body = (await response.json()) as { errors?: { extensions?: Record<string, unknown> }[] };
  const h = response.headers;
  return {
    status: response.status,
    policy: h.get('ratelimit-policy'),
    rateLimit: h.get('ratelimit'),
    retryAfter: h.get('retry-after'),
    body,
  };
}

/**
 * Waits, if needed, until at least `needMs` are left of the current `periodS` window. Miniflare's
 * windows are aligned to the clock: a test that straddles a boundary would see its count reset.
 */
async function roomInWindow(periodS: number, needMs: number): Promise<void> {
  const periodMs = periodS * 1000;
  const left = periodMs - (Date.now() % periodMs);
  if (left < needMs) await new Promise((r) => setTimeout(r, left + 50));
}

describe('the Rate Limiting binding store in workerd (built bundle, Miniflare’s binding)', () => {
  const workers: TestWorker[] = [];
  after(() => Promise.all(workers.map((w) => w.dispose())));

  test('the default policy on RL_DEFAULT: yes, yes, yes, then 429 for the period; the next period lets it through', async () => {
    const worker = await startWorker(
      { ...store, RATE_LIMIT_MAX_REQUESTS: '3', RATE_LIMIT_WINDOW_SECONDS: '10' },
      { ratelimits: { RL_DEFAULT: { namespace_id: '1001', simple: { limit: 3, period: 10 } } } },
    );
    workers.push(worker);
    await roomInWindow(10, 6000);
    const allowed = [await answer(worker, '198.51.100.7'), await answer(worker, '198.51.100.7'), await answer(worker, '198.51.100.7')];
    for (const a of allowed) {
      assert.equal(a.status, 200);
      // The configured figures, and no remaining count: the binding does not tell one.
      assert.equal(a.policy, '"default";q=3;w=10');
      assert.equal(a.rateLimit, null);
    }
    const limited = await answer(worker, '198.51.100.7', 'binding-limited');
    assert.equal(limited.status, 429);
    assert.equal(limited.retryAfter, '10', 'the period: the longest the window can still last');
    assert.equal(limited.rateLimit, '"default";r=0;t=10');
    assert.equal(limited.body.errors?.[0]?.extensions?.['policy'], 'default');
    // Another client has its own count.
    assert.equal((await answer(worker, '198.51.100.8')).status, 200);

    const started = worker.logs.find((l) => l['msg'] === 'started');
    assert.equal(started?.['store'], 'cloudflare');
    const line = await worker.waitForLog((l) => l['msg'] === 'request' && l['requestId'] === 'binding-limited');
    assert.equal(line['rateLimit'], 'limited');
    assert.equal(line['rateLimitSource'], undefined, 'decided by the binding');

    // Asked again each time (no block remembered past the binding's answer): once the window
    // turns, the binding says yes.
    await roomInWindow(10, 10_000);
    assert.equal((await answer(worker, '198.51.100.7')).status, 200);
  });

  test('several policies, each on its binding: the header lists them, the tighter rejects, a shadow one only logs', async () => {
    const worker = await startWorker(
      {
        ...store,
        RATE_LIMIT_POLICIES: JSON.stringify([
          { name: 'burst', key: 'ip', limit: 2, window: 10, binding: 'RL_BURST' },
          { name: 'minute', key: 'identity', limit: 20, window: 60, binding: 'RL_MINUTE' },
          { name: 'watch', key: 'ip', limit: 1, window: 60, mode: 'shadow', binding: 'RL_WATCH' },
        ]),
      },
      {
        ratelimits: {
          RL_BURST: { namespace_id: '1', simple: { limit: 2, period: 10 } },
          RL_MINUTE: { namespace_id: '2', simple: { limit: 20, period: 60 } },
          RL_WATCH: { namespace_id: '3', simple: { limit: 1, period: 60 } },
        },
      },
    );
    workers.push(worker);
    await roomInWindow(10, 6000);
    const first = await answer(worker, '192.0.2.44');
    assert.equal(first.status, 200);
    assert.equal(first.policy, '"burst";q=2;w=10, "minute";q=20;w=60');
    const second = await answer(worker, '192.0.2.44', 'binding-shadow');
    assert.equal(second.status, 200, 'the shadow policy said no and did not reject');
    const third = await answer(worker, '192.0.2.44');
    assert.equal(third.status, 429);
    assert.equal(third.rateLimit, '"burst";r=0;t=10');
    assert.equal(third.body.errors?.[0]?.extensions?.['policy'], 'burst');
    const line = await worker.waitForLog((l) => l['msg'] === 'request' && l['requestId'] === 'binding-shadow');
    assert.deepEqual(line['rateLimitShadow'], ['watch']);
  });

  const unservable: [string, Record<string, string>, string, RegExp][] = [
    ['the default 40 s penalty', { RATE_LIMIT_PENALTY_SECONDS: '40' }, 'RATE_LIMIT_PENALTY_SECONDS', /no penalty block/],
    ['a 30 s window', { RATE_LIMIT_WINDOW_SECONDS: '30' }, 'RATE_LIMIT_WINDOW_SECONDS', /period is 10 or 60 s/],
    [
      'a token bucket',
      {
        RATE_LIMIT_POLICIES: JSON.stringify([
          { name: 'tb', key: 'ip', algorithm: 'token-bucket', limit: 5, refillPerSecond: 1, binding: 'RL_DEFAULT' },
        ]),
      },
      'RATE_LIMIT_POLICIES',
      /policy "tb": algorithm "token-bucket"/,
    ],
    [
      'a limit per tier',
      { RATE_LIMIT_POLICIES: JSON.stringify([{ name: 'user', limit: { pro: 100, default: 10 }, window: 60, binding: 'RL_DEFAULT' }]) },
      'RATE_LIMIT_POLICIES',
      /policy "user": a limit per tier/,
    ],
    [
      'a binding that is not bound',
      { RATE_LIMIT_BINDING: 'RL_MISSING' },
      'RATE_LIMIT_BINDING',
      /no Rate Limiting binding named RL_MISSING/,
    ],
  ];
  for (const [what, env, variable, why] of unservable) {
    test(`${what}: every request answered 503, the log says why`, async () => {
      const worker = await startWorker(
        { ...store, ...env },
        { ratelimits: { RL_DEFAULT: { namespace_id: '1001', simple: { limit: 50, period: 60 } } } },
      );
      workers.push(worker);
      for (const path of ['/graphql', '/healthcheck']) {
        const response = await worker.fetch(path, { clientIp: '203.0.113.5' });
        const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
        assert.equal(response.status, 503);
        assert.equal(body.errors[0]!.extensions.code, 'SERVICE_UNAVAILABLE');
        assert.match(body.errors[0]!.message, new RegExp(`${variable} is invalid`));
      }
      const line = await worker.waitForLog((l) => l['msg'] === 'configuration error');
      assert.match(String(line['error']), why);
    });
  }
});
