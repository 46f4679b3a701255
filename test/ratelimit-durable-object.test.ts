// RATE_LIMIT_STORE=durable-object in workerd with the built bundle (npm run build:worker): one
// Durable Object per client key (SQLite-backed, as wrangler.toml's migration declares it), exact
// under concurrency, its penalty block and expiry, counts that survive a restart of workerd with
// persisted storage, and objects that hang or throw: the request fails open, never a 5xx.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { startWorker, type TestWorker } from './support/worker.js';

const rateLimiter = { RATE_LIMITER: { className: 'RateLimiterObject', useSQLite: true } };
const store = { RATE_LIMIT_STORE: 'durable-object' };

function post(worker: TestWorker, clientIp: string, requestId?: string): Promise<Response> {
  return worker.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(requestId ? { 'x-request-id': requestId } : {}) },
    body: JSON.stringify({ query: '{ __typename }' }),
    clientIp,
  });
}

async function answer(
  worker: TestWorker,
  clientIp: string,
): Promise<{ status: number; rateLimit: string | null; retryAfter: string | null }> {
  const response = await post(worker, clientIp);
  await response.arrayBuffer();
  return { status: response.status, rateLimit: response.headers.get('ratelimit'), retryAfter: response.headers.get('retry-after') };
}

describe('the durable-object store in workerd (built bundle)', () => {
  const persist = mkdtempSync(join(tmpdir(), 'tollgate-do-'));
  const workers: TestWorker[] = [];
  after(async () => {
    await Promise.all(workers.map((w) => w.dispose()));
    rmSync(persist, { recursive: true, force: true });
  });

  test('200 concurrent requests from one client: exactly 50 pass; every decision is the object’s', async () => {
    const worker = await startWorker({ ...store, RATE_LIMIT_TIMEOUT_MS: '2000' }, { durableObjects: rateLimiter });
    workers.push(worker);
    const statuses = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const response = await post(worker, '198.51.100.7');
        await response.arrayBuffer();
        return response.status;
      }),
    );
    assert.equal(statuses.filter((s) => s === 200).length, 50);
    assert.equal(statuses.filter((s) => s === 429).length, 150);
    const started = worker.logs.find((l) => l['msg'] === 'started');
    assert.equal(started?.['store'], 'durable-object');
    const unshared = worker.logs.filter(
      (l) => l['msg'] === 'request' && (l['rateLimitSource'] === 'failed-open' || l['rateLimitSource'] === 'fallback'),
    );
    assert.deepEqual(unshared, []);
    // Another client has its own object.
    assert.equal((await answer(worker, '198.51.100.8')).rateLimit, '"default";r=49;t=60');
  });

  test('the penalty block, its expiry, and counts that survive a restart of workerd (persisted storage)', async () => {
    const env = { ...store, RATE_LIMIT_MAX_REQUESTS: '3', RATE_LIMIT_PENALTY_SECONDS: '1', RATE_LIMIT_TIMEOUT_MS: '2000' };
    let worker = await startWorker(env, { durableObjects: rateLimiter, persistPath: persist });
    const first = [await answer(worker, '203.0.113.1'), await answer(worker, '203.0.113.1')];
    assert.deepEqual(
      first.map((a) => a.status),
      [200, 200],
    );
    await worker.dispose();

    worker = await startWorker(env, { durableObjects: rateLimiter, persistPath: persist });
    workers.push(worker);
    const third = await answer(worker, '203.0.113.1');
    assert.equal(third.status, 200);
    assert.match(third.rateLimit ?? '', /^"default";r=0;t=\d+$/, 'the count carried on: the third of three');
    const limited = await answer(worker, '203.0.113.1');
    assert.equal(limited.status, 429);
    assert.equal(limited.retryAfter, '1');
    const blocked = await answer(worker, '203.0.113.1');
    assert.equal(blocked.status, 429);
    await new Promise((r) => setTimeout(r, 1300));
    const fresh = await answer(worker, '203.0.113.1');
    assert.equal(fresh.status, 200, 'after the block a fresh window');
    assert.equal(fresh.rateLimit, '"default";r=2;t=60');
  });

  test('several policies of one key in one object: a token bucket and a sliding window', async () => {
    const worker = await startWorker(
      {
        ...store,
        RATE_LIMIT_TIMEOUT_MS: '2000',
        RATE_LIMIT_POLICIES: JSON.stringify([
          { name: 'minute', key: 'ip', algorithm: 'sliding-window', limit: 10, window: 60 },
          { name: 'burst', key: 'ip', algorithm: 'token-bucket', limit: 4, refillPerSecond: 0.01 },
        ]),
      },
      { durableObjects: rateLimiter },
    );
    workers.push(worker);
    const statuses = await Promise.all(Array.from({ length: 12 }, () => answer(worker, '192.0.2.44')));
    assert.equal(statuses.filter((a) => a.status === 200).length, 4, 'the bucket holds 4');
    const next = await answer(worker, '192.0.2.44');
    assert.equal(next.status, 429);
    assert.match(next.rateLimit ?? '', /^"burst";r=0;t=\d+$/);
  });

  const broken = `
import { DurableObject } from 'cloudflare:workers';
export class Hanging extends DurableObject { decide() { return new Promise(() => {}); } }
export class Throwing extends DurableObject { decide() { throw new Error('the object failed'); } }
export default { fetch: () => new Response('broken objects') };
`;

  for (const className of ['Hanging', 'Throwing']) {
    test(`an object that ${className === 'Hanging' ? 'never answers' : 'throws'}: requests fail open, never a 5xx`, async () => {
      const worker = await startWorker(
        { ...store, RATE_LIMIT_TIMEOUT_MS: '200' },
        {
          durableObjects: { RATE_LIMITER: { className, scriptName: 'broken' } },
          extraWorkers: [{ name: 'broken', script: broken, durableObjects: { HANGING: 'Hanging', THROWING: 'Throwing' } }],
        },
      );
      workers.push(worker);
      const started = Date.now();
      const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => post(worker, `192.0.2.${i + 1}`, `${className}-${i}`)));
      const elapsed = Date.now() - started;
      for (const response of answers) {
        await response.arrayBuffer();
        assert.equal(response.status, 200);
      }
      // The deadline is 200 ms; a generous margin for a loaded machine.
      assert.ok(elapsed < 10_000, `answered in ${elapsed} ms`);
      const line = await worker.waitForLog((l) => l['msg'] === 'request' && l['requestId'] === `${className}-0`);
      assert.equal(line['rateLimit'], 'failed-open');
      assert.equal(line['rateLimitCause'], className === 'Hanging' ? 'timeout' : 'error');
    });
  }
});
