// Guards of the places that reach into a dependency's internals (README, "Internals we rely on"):
// each fails the day the internal is gone or means something else. The Yoga body limiter found
// by its source text is guarded in test/runtime-body-limit.test.ts (Node) and
// test/security-worker.test.ts (the built Worker bundle).
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import { createServerAdapter } from '@whatwg-node/server';
import { errorResponse } from '../../src/http/errors.js';
import { listen } from '../../src/http/listen.js';
import { takeOverTerminationSignals } from '../../src/node/signals.js';

/** One GET to a throwaway node:http server whose request handler is `handle`. */
async function oneRequest(handle: (req: IncomingMessage, res: ServerResponse) => void, path = '/graphql?x=1'): Promise<void> {
  const server = createServer(handle);
  const url = await listen(server, 0, '127.0.0.1');
  try {
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${url}${path}`, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe("dependencies' internals we rely on", () => {
  test("@whatwg-node/server registers its SIGTERM/SIGINT handlers as functions named 'terminateHandler' (src/node/signals.ts)", () => {
    const named = (signal: NodeJS.Signals) => process.listeners(signal).filter((l) => l.name === 'terminateHandler').length;
    const adapter = createServerAdapter(() => new Response(null), { disposeOnProcessTerminate: true });
    void adapter.disposableStack; // registers them, lazily
    assert.equal(named('SIGTERM'), 1, 'found by its name');
    assert.equal(named('SIGINT'), 1, 'found by its name');
    takeOverTerminationSignals();
    assert.equal(named('SIGTERM'), 0);
    assert.equal(named('SIGINT'), 0);
  });

  test("@whatwg-node/server's Node requests carry the parsed URL as `parsedUrl` (src/lifecycle/handle.ts reuses it)", async () => {
    let parsed: unknown;
    let url = '';
    const adapter = createServerAdapter((request: Request) => {
      parsed = (request as Request & { parsedUrl?: unknown }).parsedUrl;
      url = request.url;
      return new Response('ok');
    });
    await oneRequest(adapter);
    assert.ok(parsed instanceof URL, 'parsedUrl is a URL');
    assert.equal(parsed.href, url);
    assert.equal(parsed.pathname, '/graphql');
  });

  test("Node's socket points at its response in flight as `_httpMessage`, with `headersSent` (src/security/clientError.ts)", async () => {
    let before: unknown;
    let after: { headersSent?: boolean } | undefined;
    let response: ServerResponse | undefined;
    await oneRequest((req, res) => {
      response = res;
      before = (req.socket as unknown as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
      res.writeHead(200).flushHeaders();
      after = (req.socket as unknown as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
      res.end();
    });
    assert.equal(before, false);
    assert.equal(after, response, 'the socket names the response it is writing');
    assert.equal(after?.headersSent, true);
  });
});

describe('errors classified by class, not by a pattern on their name', () => {
  test("bad JSON (SyntaxError) is the client's 400; an error merely named like a body's (undici's BodyTimeoutError) is a 500", async () => {
    assert.equal(errorResponse(new SyntaxError('Unexpected token'), 'rid', false).status, 400);
    const upstream = Object.assign(new Error('Body Timeout Error'), { name: 'BodyTimeoutError' });
    const response = errorResponse(upstream, 'rid', false);
    assert.equal(response.status, 500);
    assert.equal(((await response.json()) as { errors: { message: string }[] }).errors[0]!.message, 'Unexpected error.');
  });
});
