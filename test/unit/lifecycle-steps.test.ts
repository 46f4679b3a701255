// Each lifecycle step alone: a RequestContext, the step, and a `next` that stands for the rest.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compose, type Step } from '../../src/lifecycle/compose.js';
import { RequestContext } from '../../src/lifecycle/context.js';
import { bodyBound } from '../../src/lifecycle/steps/bodyBound.js';
import { clientGone } from '../../src/lifecycle/steps/clientGone.js';
import { clientIdentity } from '../../src/lifecycle/steps/clientIdentity.js';
import { cors } from '../../src/lifecycle/steps/cors.js';
import { errorShape } from '../../src/lifecycle/steps/errorShape.js';
import { exemptRoutes } from '../../src/lifecycle/steps/exemptRoutes.js';
import { rateLimit } from '../../src/lifecycle/steps/rateLimit.js';
import { readiness } from '../../src/lifecycle/steps/readiness.js';
import { requestIdAndTiming } from '../../src/lifecycle/steps/requestIdAndTiming.js';
import { requestLog, type RequestEvent } from '../../src/lifecycle/steps/requestLog.js';
import { parseTrustProxy } from '../../src/identity/trustProxy.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { MemoryStore } from '../../src/ratelimit/memoryStore.js';
import { defaultPolicy } from '../../src/ratelimit/policy.js';
import { defaultPolicies } from '../../src/ratelimit/policies.js';
import { exempt } from '../../src/ratelimit/result.js';
import type { RateLimitStore } from '../../src/ratelimit/store.js';

const platform = { waitUntil() {}, clientAddress: '192.0.2.7' };

function contextFor(init: RequestInit & { path?: string; headers?: Record<string, string> } = {}): RequestContext {
  const path = init.path ?? '/graphql';
  return new RequestContext(new Request(`http://gateway.test${path}`, init), platform, path);
}

/** Runs `step` with a `next` that answers 200 and records that it was called. */
async function run(step: Step<RequestContext>, c: RequestContext): Promise<{ nextCalled: boolean }> {
  let nextCalled = false;
  await step(c, async () => {
    nextCalled = true;
    c.response ??= new Response('{"data":{}}', { status: 200 });
  });
  return { nextCalled };
}

describe('compose', () => {
  test('runs the steps in order, each around the next, and returns what the innermost answered', async () => {
    const order: string[] = [];
    const step =
      (name: string): Step<RequestContext> =>
      async (_c, next) => {
        order.push(`${name} in`);
        await next();
        order.push(`${name} out`);
      };
    const answer: Step<RequestContext> = async (c) => {
      order.push('answer');
      c.response = new Response('ok');
    };
    const c = contextFor();
    await compose([step('a'), step('b'), answer], () => assert.fail('no error expected'))(c);
    assert.deepEqual(order, ['a in', 'b in', 'answer', 'b out', 'a out']);
    assert.equal(await c.response.text(), 'ok');
  });

  test('an error becomes the response at the step that threw it; the steps around it carry on', async () => {
    const outer: Step<RequestContext> = async (c, next) => {
      await next();
      c.response.headers.set('x-outer', 'yes');
    };
    const thrower: Step<RequestContext> = async () => {
      throw new Error('boom');
    };
    const c = contextFor();
    await compose([outer, thrower], (error, ctx) => {
      ctx.response = new Response(String((error as Error).message), { status: 500 });
    })(c);
    assert.equal(c.response.status, 500);
    assert.equal(await c.response.text(), 'boom');
    assert.equal(c.response.headers.get('x-outer'), 'yes');
  });

  test('a lifecycle whose last step calls next is an error, not a hang or an empty answer', async () => {
    const errors: unknown[] = [];
    const c = contextFor();
    await compose<RequestContext>([async (_c, next) => next()], (error, ctx) => {
      errors.push(error);
      ctx.response = new Response(null, { status: 500 });
    })(c);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /without an answer/);
  });
});

describe('steps alone', () => {
  test('cors: a preflight is answered 204 here and goes no further; other answers get the CORS headers', async () => {
    const step = cors({ origins: ['https://app.example'], exposeHeaders: ['X-Request-Id'] });
    const preflight = contextFor({
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    assert.equal((await run(step, preflight)).nextCalled, false);
    assert.equal(preflight.response.status, 204);
    assert.equal(preflight.response.headers.get('access-control-allow-origin'), 'https://app.example');

    const get = contextFor({ headers: { origin: 'https://app.example' } });
    assert.equal((await run(step, get)).nextCalled, true);
    assert.equal(get.response.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(get.response.headers.get('access-control-expose-headers'), 'X-Request-Id');
    assert.equal(get.response.headers.get('vary'), 'Origin');
  });

  test('request id and timing: the client’s sane id is kept, a hostile one replaced; the timing headers measure the whole', async () => {
    let t = 100;
    const step = requestIdAndTiming(() => t);
    const own = contextFor({ headers: { 'x-request-id': 'abc-123' } });
    await step(own, async () => {
      t = 103.5;
      own.rateLimitMs = 0.5;
      own.gatewayMs = 2.25;
      own.response = new Response('ok');
    });
    assert.equal(own.requestId, 'abc-123');
    assert.equal(own.response.headers.get('x-request-id'), 'abc-123');
    assert.equal(own.response.headers.get('x-processing-time'), '3.50ms');
    assert.equal(own.response.headers.get('server-timing'), 'ratelimit;dur=0.50, gateway;dur=2.25, total;dur=3.50');

    const hostile = contextFor({ headers: { 'x-request-id': 'a b<script>' } });
    await run(step, hostile);
    assert.match(hostile.requestId, /^[0-9a-f-]{36}$/);
  });

  test('exempt routes: a route answers by itself; health and readiness are marked exempt and go on', async () => {
    const step = exemptRoutes({ '/metrics': () => new Response('metrics') });
    const metrics = contextFor({ path: '/metrics' });
    assert.equal((await run(step, metrics)).nextCalled, false);
    assert.equal(await metrics.response.text(), 'metrics');
    assert.equal(metrics.rateLimit, exempt);

    const health = contextFor({ path: '/healthcheck' });
    assert.equal((await run(step, health)).nextCalled, true);
    assert.equal(health.rateLimit.source, 'exempt');

    const graphql = contextFor();
    await run(step, graphql);
    assert.equal(graphql.rateLimit.source, 'disabled');
  });

  test('client identity: the key from the connection, none for an exempt path', async () => {
    const step = clientIdentity(parseTrustProxy('none')!);
    const c = contextFor({ headers: { 'x-forwarded-for': '203.0.113.9' } });
    await run(step, c);
    assert.equal(c.clientKey, '192.0.2.7', 'a forwarding header from an untrusted peer is ignored');
    const health = contextFor({ path: '/healthcheck' });
    health.rateLimit = exempt;
    await run(step, health);
    assert.equal(health.clientKey, undefined);
  });

  test('rate limit: allowed goes on with the RateLimit headers; over the limit is 429 with Retry-After and goes no further', async () => {
    const step = rateLimit({
      store: new MemoryStore(),
      policies: defaultPolicies({ limit: 1, windowMs: 60_000, penaltyMs: 40_000 }),
      log: silentLogger,
      now: () => 0,
    });
    const first = contextFor();
    first.clientKey = 'k';
    assert.equal((await run(step, first)).nextCalled, true);
    assert.deepEqual(
      { source: first.rateLimit.source, allowed: first.rateLimit.source === 'store' && first.rateLimit.allowed },
      { source: 'store', allowed: true },
    );
    assert.equal(first.response.headers.get('ratelimit-policy'), '"default";q=1;w=60');
    assert.equal(first.response.headers.get('ratelimit'), '"default";r=0;t=60');

    const second = contextFor();
    second.clientKey = 'k';
    assert.equal((await run(step, second)).nextCalled, false);
    assert.equal(second.response.status, 429);
    assert.equal(second.response.headers.get('retry-after'), '40');
    const body = (await second.response.json()) as { errors: { extensions: Record<string, unknown> }[] };
    assert.equal(body.errors[0]!.extensions['code'], 'RATE_LIMITED');
    assert.equal(body.errors[0]!.extensions['retryAfter'], 40);
  });

  test('rate limit: a store that throws lets the request through as failed-open (cause error), and says so once', async () => {
    const lines: string[] = [];
    const throwing: RateLimitStore = {
      kind: 'broken',
      decide: async () => {
        throw new Error('store down');
      },
      close: async () => {},
    };
    const step = rateLimit({
      store: throwing,
      policies: defaultPolicies(defaultPolicy),
      log: createLogger('warn', (l) => lines.push(l)),
      now: () => 0,
    });
    for (let i = 0; i < 3; i++) {
      const c = contextFor();
      c.clientKey = 'k';
      assert.equal((await run(step, c)).nextCalled, true);
      assert.equal(c.rateLimit.source, 'failed-open');
      assert.equal(c.rateLimit.source === 'failed-open' && c.rateLimit.cause, 'error');
      assert.equal(c.response.headers.get('ratelimit'), '"default";r=50;t=60');
    }
    assert.equal(lines.length, 1, 'one warning per interval, not one per request');
  });

  test('rate limit: an exempt path is not decided and gets no RateLimit headers', async () => {
    let decided = 0;
    const store = new MemoryStore();
    const counting: RateLimitStore = {
      kind: 'memory',
      decide: (key, checks) => {
        decided++;
        return store.decide(key, checks);
      },
      close: async () => {},
    };
    const c = contextFor({ path: '/healthcheck' });
    c.rateLimit = exempt;
    await run(rateLimit({ store: counting, policies: defaultPolicies(defaultPolicy), log: silentLogger, now: () => 0 }), c);
    assert.equal(decided, 0);
    assert.equal(c.response.headers.get('ratelimit'), null);
  });

  test('body bound: over the limit is 413 and the gateway is not reached; within it the request goes on', async () => {
    const step = bodyBound(10);
    const big = contextFor({ method: 'POST', body: 'x'.repeat(11), headers: { 'content-type': 'application/json' } });
    assert.equal((await run(step, big)).nextCalled, false);
    assert.equal(big.response.status, 413);
    const small = contextFor({ method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal((await run(step, small)).nextCalled, true);
    assert.ok(small.body instanceof Request);
  });

  test('client gone: an aborted request is 499 CLIENT_CLOSED_REQUEST without going further', async () => {
    const controller = new AbortController();
    controller.abort();
    const gone = contextFor({ signal: controller.signal });
    assert.equal((await run(clientGone(), gone)).nextCalled, false);
    assert.equal(gone.response.status, 499);
    assert.equal((await run(clientGone(), contextFor())).nextCalled, true);
  });

  test('readiness: the store’s health beside a ready runtime; other paths untouched', async () => {
    const store: RateLimitStore = {
      ...new MemoryStore(),
      kind: 'redis',
      decide: async () => assert.fail(),
      close: async () => {},
      health: () => ({ status: 'degraded', detail: 'down' }),
    };
    const c = contextFor({ path: '/readiness' });
    await run(readiness(store), c);
    assert.deepEqual(await c.response.json(), { status: 'degraded', store: { kind: 'redis', status: 'degraded', detail: 'down' } });
    const other = contextFor();
    await run(readiness(store), other);
    assert.deepEqual(await other.response.json(), { data: {} });
  });

  test('error shape: 500 in the one shape with the request id, no detail in production; logged once', async () => {
    const lines: string[] = [];
    const c = contextFor();
    c.requestId = 'req-1';
    errorShape({ development: false, log: createLogger('info', (l) => lines.push(l)) })(new Error('secret path /srv/x'), c);
    assert.equal(c.response.status, 500);
    const text = await c.response.text();
    assert.deepEqual(JSON.parse(text), {
      errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'req-1' } }],
    });
    assert.equal(lines.filter((l) => l.includes('"request failed"')).length, 1);
  });

  test('request log: the observer sees the one result; its fields join the line; an observer that throws costs only its fields', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger('info', (l) => lines.push(JSON.parse(l)));
    const events: RequestEvent[] = [];
    const c = contextFor();
    c.requestId = 'r';
    const blocked = { allowed: false, reason: 'blocked', retryAfterMs: 5000 } as const;
    const policy = { name: 'default', key: 'ip', limit: defaultPolicy, tier: 'default', shadow: false } as const;
    c.rateLimit = { ...blocked, source: 'local-cache', policy, outcomes: [{ policy, decision: blocked, source: 'local-cache' }] };
    c.rateLimitMs = 0.123;
    await run(
      requestLog({
        log,
        observe: (e) => {
          events.push(e);
          return { operation: 'Op' };
        },
      }),
      c,
    );
    assert.equal(events[0]!.rateLimit, c.rateLimit);
    assert.deepEqual(
      { ...lines[0], time: undefined },
      {
        time: undefined,
        level: 'info',
        msg: 'request',
        requestId: 'r',
        method: 'GET',
        path: '/graphql',
        status: 200,
        ms: 0,
        rateLimit: 'blocked',
        rateLimitSource: 'local-cache',
        rateLimitDecision: 'blocked_local_cache',
        rateLimitMs: 0.12,
        rateLimitPolicy: 'default',
        operation: 'Op',
      },
    );

    const failing = contextFor();
    await run(
      requestLog({
        log,
        observe: () => {
          throw new Error('observer bug');
        },
      }),
      failing,
    );
    assert.equal(failing.response.status, 200);
    assert.ok(lines.some((l) => l['msg'] === 'observing a request failed'));
    assert.equal(lines.filter((l) => l['msg'] === 'request').length, 2);
  });
});
