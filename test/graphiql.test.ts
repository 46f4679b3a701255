/**
 * GraphiQL in development: Debian's chromium (playwright-core) loads it from the Node
 * gateway with no network beyond the gateway, runs a federated query typed into the page, and
 * the result shown is checked; a screenshot goes to test-output/graphiql.png. In production a
 * browser gets no GraphiQL.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { parseConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startNodeServer } from '../src/node/server.js';
import { createNodeObservability } from '../src/observability/node.js';
import { MemoryStore } from '../src/ratelimit/memoryStore.js';
import { createTollgate } from '../src/tollgate.js';
import { launchBrowser } from './support/browser.js';
import { closeDemo, demoSubgraphs, postQuery } from './support/gateway.js';

after(closeDemo);

const outputDir = new URL('../test-output/', import.meta.url).pathname;

/** The gateway as `npm start` wires it (src/node/main.ts), in this process. */
async function startObservedGateway(env: Record<string, string>) {
  const demo = await demoSubgraphs();
  const fullEnv = { HOST: '127.0.0.1', PORT: '0', ...env };
  const config = parseConfig(fullEnv, 'node');
  const log = createLogger('warn', () => {});
  const store = new MemoryStore();
  const obs = createNodeObservability(config.observability, config, { log, store });
  const tollgate = createTollgate(config, { supergraphSdl: demo.supergraphSdl, store, log: obs.log, ...obs.tollgate });
  const server = await startNodeServer({ handler: obs.wrap(tollgate.handler), port: 0, host: '127.0.0.1', log });
  return {
    url: server.url,
    async close() {
      await server.close();
      await tollgate.close();
    },
  };
}

/** Reviews (reviews subgraph) of a product (products) by authors (users): all three subgraphs. */
const federatedQuery = 'query Federated { topProducts(first: 1) { name reviews { author { username } } } }';

describe('GraphiQL', () => {
  test('ENVIRONMENT=development: chromium runs a federated query from GraphiQL on /graphql, offline', async () => {
    const gw = await startObservedGateway({ ENVIRONMENT: 'development' });
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      const elsewhere: string[] = [];
      page.on('request', (request) => {
        const url = request.url();
        if (!url.startsWith(gw.url) && !url.startsWith('blob:') && !url.startsWith('data:')) elsewhere.push(url);
      });
      const response = await page.goto(`${gw.url}/graphql`);
      assert.equal(response?.status(), 200);
      assert.match(response?.headers()['content-type'] ?? '', /^text\/html/);
      assert.ok(response?.headers()['x-request-id'], 'the lifecycle headers on the page too');
      await page.waitForSelector('.graphiql-query-editor .monaco-editor', { timeout: 30_000 });
      assert.equal(await page.title(), 'Tollgate GraphiQL');

      // Replace the default query with ours, on one line (Monaco indents and closes brackets in
      // typed or pasted lines), then let GraphiQL's prettifier lay it out.
      await page.click('.graphiql-query-editor .monaco-editor .view-lines');
      await page.keyboard.press('Control+A');
      await page.keyboard.press('Delete');
      await page.keyboard.insertText(federatedQuery);
      // GraphiQL has read the new document when its tab is named after the operation.
      await page.locator('.graphiql-tab-active', { hasText: 'Federated' }).waitFor({ timeout: 10_000 });
      await page.click('button[aria-label^="Prettify"]');
      await page.locator('.graphiql-query-editor .view-line', { hasText: 'reviews {' }).waitFor({ timeout: 10_000 });
      const answered = page.waitForResponse((r) => r.url() === `${gw.url}/graphql` && r.request().method() === 'POST');
      await page.click('.graphiql-execute-button');
      assert.equal((await answered).status(), 200);
      // The result editor shows the whole answer once its text is complete JSON.
      const shown = await page.waitForFunction(
        () => {
          // biome-ignore lint/performance/useDomNodeTextContent: the text as rendered for the reader (CodeMirror's lines), not the DOM's raw text
          const text = (document.querySelector('.graphiql-response') as HTMLElement | null)?.innerText.replace(/\u00a0/g, ' ');
          try {
            return text ? (JSON.parse(text) as unknown) : false;
          } catch {
            return false;
          }
        },
        null,
        { timeout: 15_000 },
      );
      const expected = (await (await postQuery(gw.url, federatedQuery)).json()) as unknown;
      assert.deepEqual(await shown.jsonValue(), expected, 'the page shows what the gateway answers');
      const text = JSON.stringify(expected);
      assert.ok(text.includes('Table') && text.includes('@ada'), 'data from products, reviews and users');

      mkdirSync(outputDir, { recursive: true });
      await page.screenshot({ path: `${outputDir}graphiql.png` });
      assert.deepEqual(elsewhere, [], 'nothing loaded from anywhere but the gateway');
    } finally {
      await browser.close();
      await gw.close();
    }
  });

  test('production: a browser asking for /graphql gets no GraphiQL', async () => {
    const gw = await startObservedGateway({ ENVIRONMENT: 'production' });
    try {
      const response = await fetch(`${gw.url}/graphql`, { headers: { accept: 'text/html' } });
      const body = await response.text();
      assert.doesNotMatch(response.headers.get('content-type') ?? '', /text\/html/);
      assert.doesNotMatch(body, /graphiql/i);
      assert.equal(response.status, 406);
    } finally {
      await gw.close();
    }
  });
});
