import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { closeDemo, demoSubgraphs } from './support/gateway.js';
import { assertErrorShape } from './support/security.js';
import { serveText, startWorker, type TestWorker } from './support/worker.js';

/** The same limits in workerd (the built bundle through Miniflare): one handler, one set of answers. */
describe('abuse limits in workerd', () => {
  let worker: TestWorker;
  let supergraph: Awaited<ReturnType<typeof serveText>>;
  before(async () => {
    const demo = await demoSubgraphs();
    supergraph = await serveText(demo.supergraphSdl);
    worker = await startWorker({ SUPERGRAPH: supergraph.url, MAX_BODY_BYTES: '2048', MAX_DEPTH: '3', RATE_LIMIT_MAX_REQUESTS: '1000' });
  });
  after(async () => {
    await worker.dispose();
    await supergraph.close();
    await closeDemo();
  });

  const post = (body: BodyInit, headers: Record<string, string> = { 'content-type': 'application/json' }, extra: object = {}) =>
    worker.fetch('/graphql', { method: 'POST', headers, body, clientIp: '192.0.2.77', ...extra });

  test('413 for a body over MAX_BODY_BYTES, by Content-Length and streamed', async () => {
    await assertErrorShape(await post(JSON.stringify({ query: '{ topProducts { name } }', pad: 'x'.repeat(5000) })), {
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    });
    // Streamed (no Content-Length): workerd answers 413 as soon as the count passes the limit and
    // never reads the rest, so the client's last writes can meet a closed connection (EPIPE):
    // that is the refusal working. Each try either gets the 413 in shape or fails only that way;
    // at least one must get the answer.
    let answered = 0;
    for (let attempt = 0; attempt < 5 && answered === 0; attempt++) {
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 8; i++) controller.enqueue(new Uint8Array(1024).fill(32));
          controller.close();
        },
      });
      let response: Response;
      try {
        response = await post(stream, { 'content-type': 'application/json' }, { duplex: 'half' });
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause;
        assert.ok(
          cause?.code === 'EPIPE' || cause?.code === 'ECONNRESET',
          `only a write cut by the early answer: ${String(error)} (${cause?.code})`,
        );
        continue;
      }
      await assertErrorShape(response, { status: 413, code: 'PAYLOAD_TOO_LARGE' });
      answered++;
    }
    assert.equal(answered, 1, 'a streamed body over the limit got its 413 in one of five tries');
  });

  test('depth over the limit 400, an unsupported content type 415, introspection refused', async () => {
    await assertErrorShape(await post(JSON.stringify({ query: '{ topProducts { reviews { author { name } } } }' })), {
      status: 400,
      code: 'MAX_DEPTH_EXCEEDED',
    });
    await assertErrorShape(await post('{}', { 'content-type': 'text/plain' }), { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    await assertErrorShape(
      await post(JSON.stringify({ query: '{ __schema { types { name } } }' }), {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
      }),
      { status: 400, code: 'INTROSPECTION_DISABLED' },
    );
    const ok = await post(JSON.stringify({ query: '{ topProducts { reviews { body } } }' }));
    assert.equal(ok.status, 200);
    // The runtime's own body limit was found and switched off in the bundle too (else it says so).
    assert.ok(!worker.logs.some((l) => /could not be switched off/.test(String(l['msg']))));
    assert.ok(
      worker.logs.some((l) => l['msg'] === 'request'),
      'the Worker logs are collected',
    );
  });
});
