import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { serverAudits, type AuditResult } from 'graphql-http';
import { closeDemo, startTestGateway } from './support/gateway.js';

/**
 * graphql-http's server audits (GraphQL-over-HTTP) against the Node gateway, in production with
 * every limit on. The audits query `__type` in five places, so they run twice: with
 * INTROSPECTION=true (everything else the production default), where every audit passes, and with
 * the production defaults (introspection off), where exactly the audits that need `__type` data
 * do not (docs/architecture.md, "Errors and statuses", Conformance).
 */

/** Audits whose query is `__type(…)` and that require data, not only a status, by id. */
const needIntrospection: Record<string, string> = {
  '28B9': 'MUST allow map {variables} parameter when accepting application/json',
  '2EA1': 'SHOULD allow map {variables} parameter when accepting application/graphql-response+json',
  D6D5: 'MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/graphql-response+json',
  '6A70': 'MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/json',
};

async function audit(env: Record<string, string>): Promise<AuditResult[]> {
  // The rate limit is raised so the audit's ~60 requests from one address all reach the gateway.
  const gw = await startTestGateway({ RATE_LIMIT_MAX_REQUESTS: '1000', ...env });
  try {
    return await Promise.all(serverAudits({ url: `${gw.url}/graphql` }).map((a) => a.fn()));
  } finally {
    await gw.close();
  }
}

function summary(results: AuditResult[]): string {
  const levels = ['MUST', 'SHOULD', 'MAY'].map((level) => {
    const all = results.filter((r) => r.name.startsWith(`${level} `));
    return `${level} ${all.filter((r) => r.status === 'ok').length}/${all.length}`;
  });
  return `${results.length} audits: ${levels.join(', ')}`;
}

const notPassing = (results: AuditResult[]) =>
  Object.fromEntries(results.filter((r) => r.status !== 'ok').map((r) => [r.id, `${r.name}: ${'reason' in r ? r.reason : ''}`]));

describe('GraphQL over HTTP: graphql-http server audits against the Node gateway', () => {
  let withIntrospection: AuditResult[];
  let productionDefaults: AuditResult[];
  before(async () => {
    withIntrospection = await audit({ INTROSPECTION: 'true' });
    productionDefaults = await audit({});
  });
  after(() => closeDemo());

  test('production with every limit on (introspection allowed): every audit passes, MUST, SHOULD and MAY', (t) => {
    t.diagnostic(summary(withIntrospection));
    assert.ok(withIntrospection.filter((r) => r.name.startsWith('MUST ')).length >= 13);
    assert.deepEqual(notPassing(withIntrospection), {});
  });

  test('production defaults (introspection off): only the audits that need __type data do not pass', (t) => {
    t.diagnostic(summary(productionDefaults));
    const failed = notPassing(productionDefaults);
    for (const [id, reason] of Object.entries(failed)) t.diagnostic(`not passing: ${id} ${reason}`);
    assert.deepEqual(Object.keys(failed).sort(), Object.keys(needIntrospection).sort());
    for (const id of Object.keys(needIntrospection)) {
      assert.match(failed[id] ?? '', /errors|status code is not 200/, id);
    }
    // Among them the one MUST; its answer is the introspection refusal, not an HTTP-level fault.
    const must = productionDefaults.find((r) => r.id === '28B9');
    assert.equal(must?.status, 'error');
  });
});
