import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import http from '@graphql-mesh/transport-http';
import { createRuntime } from '../src/gateway/runtime.js';
import { createLogger } from '../src/log.js';

/**
 * MAX_BODY_BYTES is enforced before the runtime (src/security/body.ts; its 413s are tested in
 * security-limits and security-worker). The runtime's own count (Yoga's 25 MB limit, a stream
 * per request) is switched off in Tollgate's runtime: this shows it is, with a body just over
 * Yoga's limit that a plain runtime refuses.
 */
describe("the request body limit is Tollgate's alone", () => {
  const supergraphSdl = readFileSync(new URL('../supergraph.graphql', import.meta.url), 'utf8');
  const body = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(25_100_000) } });
  const post = (runtime: { fetch(url: string, init: RequestInit): Promise<Response> | Response }) =>
    runtime.fetch('http://gateway.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  test("a plain runtime refuses a body over its own 25 MB; Tollgate's runtime leaves that to MAX_BODY_BYTES and answers", async () => {
    const plain = createGatewayRuntime({ supergraph: supergraphSdl, transports: { http }, logging: false });
    try {
      const refused = await post(plain);
      assert.equal(refused.status, 413, 'the body is over the runtime’s own limit');
      await refused.text();
    } finally {
      await plain.dispose();
    }

    const lines: Record<string, unknown>[] = [];
    const runtime = createRuntime({
      supergraph: supergraphSdl,
      development: false,
      log: createLogger('debug', (line) => lines.push(JSON.parse(line))),
    });
    try {
      const response = await post(runtime);
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { data: { __typename: 'Query' } });
      assert.ok(!lines.some((l) => /could not be switched off/.test(String(l['msg']))), 'the runtime’s limiter was found');
    } finally {
      await runtime.dispose();
    }
  });
});
