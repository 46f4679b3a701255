import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from './support/browser.js';
import { closeDemo, demoSubgraphs } from './support/gateway.js';
import { startCustomGateway, type CustomGateway } from './support/security.js';

/**
 * CORS in a real browser (Debian's chromium through playwright-core): pages served from their
 * own loopback origins call the gateway on another. Only the browser decides what a page may
 * read, so this is where the CORS headers are proven, not merely present.
 */

const limit = 6;

/** A page server on its own origin: serves one empty HTML page the test scripts run in. */
async function startPageServer(): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>page</title><p>page</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What a page's script saw of one fetch: the status and the headers/body it may read, or the failure. */
interface Seen {
  ok?: boolean;
  status?: number;
  headers?: Record<string, string | null>;
  body?: any;
  failed?: string;
}

/**
 * The page's script: `fetch`, then whatever the page may read. Kept as source text so the test's
 * TypeScript transform (which adds helpers to named functions) never reaches the page.
 */
const pageScript = `async ({ url, init }) => {
  try {
    const response = await fetch(url, init);
    const names = ['x-processing-time', 'x-request-id', 'ratelimit', 'ratelimit-policy', 'retry-after', 'server-timing'];
    const headers = Object.fromEntries(names.map((name) => [name, response.headers.get(name)]));
    let body;
    try { body = await response.json(); } catch { body = undefined; }
    return { ok: response.ok, status: response.status, headers, body };
  } catch (error) {
    return { failed: String(error) };
  }
}`;

/** Runs `fetch` in the page (so under the page's origin) and reports what its script could read. */
function fetchFromPage(page: Page, url: string, init: { method: string; headers?: Record<string, string>; body?: string }): Promise<Seen> {
  return page.evaluate(`(${pageScript})(${JSON.stringify({ url, init })})`) as Promise<Seen>;
}

describe('CORS in chromium: a page on one loopback origin calls the gateway on another', () => {
  let browser: Browser;
  let allowedPage: Awaited<ReturnType<typeof startPageServer>>;
  let otherPage: Awaited<ReturnType<typeof startPageServer>>;
  let gw: CustomGateway;
  const arrived: string[] = [];

  before(async () => {
    [allowedPage, otherPage] = await Promise.all([startPageServer(), startPageServer()]);
    const demo = await demoSubgraphs();
    gw = await startCustomGateway(
      demo.supergraphSdl,
      { CORS_ORIGINS: allowedPage.origin, RATE_LIMIT_MAX_REQUESTS: String(limit) },
      { spy: (request) => void arrived.push(`${request.method} ${request.headers.get('origin') ?? '-'}`) },
    );
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
    await allowedPage?.close();
    await otherPage?.close();
    await closeDemo();
  });

  async function open(origin: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${origin}/`);
    return page;
  }

  const graphqlPost = {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-client-name': 'browser-test' },
    body: JSON.stringify({ query: '{ topProducts { name } }' }),
  };

  test('the allowed origin: a preflight, then the POST with a custom header; the script reads the exposed headers', async () => {
    const page = await open(allowedPage.origin);
    try {
      arrived.length = 0;
      const seen = await fetchFromPage(page, `${gw.url}/graphql`, graphqlPost);
      assert.equal(seen.failed, undefined);
      assert.equal(seen.status, 200);
      assert.equal(seen.body.data.topProducts.length, 5);
      // The browser asked first: a custom header and a JSON content type are not "simple".
      assert.deepEqual(arrived, [`OPTIONS ${allowedPage.origin}`, `POST ${allowedPage.origin}`]);
      assert.match(seen.headers!['x-processing-time'] ?? '', /^\d+\.\d{2}ms$/);
      assert.match(seen.headers!['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
      assert.match(seen.headers!['ratelimit'] ?? '', new RegExp(`^"default";r=${limit - 1};t=\\d+$`));
      assert.equal(seen.headers!['ratelimit-policy'], `"default";q=${limit};w=60`);
      assert.match(seen.headers!['server-timing'] ?? '', /total;dur=/);
    } finally {
      await page.close();
    }
  });

  test('a disallowed origin: the browser refuses the page both a preflighted POST and a simple GET', async () => {
    const page = await open(otherPage.origin);
    try {
      arrived.length = 0;
      const post = await fetchFromPage(page, `${gw.url}/graphql`, graphqlPost);
      assert.match(post.failed ?? '', /TypeError: Failed to fetch/);
      // The preflight was refused, so the POST itself was never sent.
      assert.deepEqual(arrived, [`OPTIONS ${otherPage.origin}`]);
      const get = await fetchFromPage(page, `${gw.url}/graphql?query=${encodeURIComponent('{ topProducts { name } }')}`, { method: 'GET' });
      assert.match(get.failed ?? '', /TypeError: Failed to fetch/);
    } finally {
      await page.close();
    }
  });

  test('past the limit: the script reads the 429, its Retry-After and the error JSON', async () => {
    const page = await open(allowedPage.origin);
    try {
      let seen: Seen | undefined;
      for (let i = 0; i < limit + 2 && seen?.status !== 429; i++) {
        seen = await fetchFromPage(page, `${gw.url}/graphql`, graphqlPost);
        assert.equal(seen.failed, undefined);
      }
      assert.equal(seen?.status, 429);
      assert.equal(seen?.ok, false);
      const retryAfter = Number(seen?.headers?.['retry-after']);
      assert.ok(retryAfter > 0 && retryAfter <= 40, `Retry-After ${retryAfter}`);
      assert.equal(seen?.body.errors[0].extensions.code, 'RATE_LIMITED');
      assert.equal(seen?.body.errors[0].extensions.retryAfter, retryAfter);
      assert.equal(seen?.body.errors[0].extensions.requestId, seen?.headers?.['x-request-id']);
      assert.match(seen?.body.errors[0].message, /Too many requests/);
      assert.match(seen?.headers?.['ratelimit'] ?? '', /r=0/);
    } finally {
      await page.close();
    }
  });
});
