import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { convertV4MiniflareOptions, Miniflare, type V4WorkerOptions } from 'miniflare';

export const workerBundle = new URL('../../dist/worker/index.js', import.meta.url).pathname;
const bundleDir = dirname(workerBundle);

export interface TestWorker {
  readonly mf: Miniflare;
  /** Every JSON line the Worker logged (console.log), parsed. */
  readonly logs: Record<string, unknown>[];
  fetch(path: string, init?: RequestInit & { clientIp?: string }): Promise<Response>;
  /**
   * With `withClient`: a client Worker calls Tollgate through a service binding and aborts that
   * call after `abandonAfterMs`, as a client that leaves does: workerd cancels Tollgate's request
   * (its I/O stops, what it awaits never settles), which a dropped HTTP connection to local workerd
   * does not do. 'abandoned', or 'answered' when Tollgate answered before the abort.
   */
  fetchAbandoned(path: string, init: RequestInit, abandonAfterMs: number): Promise<'abandoned' | 'answered'>;
  /** Waits until a log line matches, or fails after `timeoutMs`. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  dispose(): Promise<void>;
}

/** A Worker that forwards a request to Tollgate through a service binding and gives up on it after a while. */
const abandoningClient = `
export default {
  async fetch(request, env) {
    const after = Number(request.headers.get('x-abandon-after-ms'));
    const headers = new Headers(request.headers);
    headers.delete('x-abandon-after-ms');
    try {
      const url = new URL(request.url);
      await env.TOLLGATE.fetch('http://tollgate.test' + url.pathname + url.search, { method: request.method, headers, body: await request.text() || undefined, signal: AbortSignal.timeout(after) });
      return new Response('answered');
    } catch {
      return new Response('abandoned');
    }
  },
};`;

/** Loads the built bundle (`npm run build:worker`) in workerd through Miniflare, offline (a fixed `cf`). */
export async function startWorker(
  bindings: Record<string, string | object>,
  options: {
    outboundService?: (request: Request) => Response | Promise<Response>;
    /** Durable Object bindings, e.g. `{ RATE_LIMITER: { className: 'RateLimiterObject', useSQLite: true } }`. */
    durableObjects?: Record<string, { className: string; useSQLite?: boolean; scriptName?: string }>;
    /** Rate Limiting bindings, as wrangler.toml's `[[ratelimits]]`, e.g. `{ RL_DEFAULT: { namespace_id: '1001', simple: { limit: 50, period: 60 } } }`. */
    ratelimits?: Record<string, { namespace_id: string; simple: { limit: number; period: 10 | 60 } }>;
    /** A directory where storage (Durable Objects') persists across `startWorker` calls. */
    persistPath?: string;
    /** More Workers beside the bundle (ES module source), e.g. one whose Durable Objects misbehave. */
    extraWorkers?: { name: string; script: string; durableObjects?: Record<string, string> }[];
    /** Also run a client Worker that calls Tollgate through a service binding (`fetchAbandoned`). */
    withClient?: boolean;
  } = {},
): Promise<TestWorker> {
  if (!existsSync(workerBundle)) throw new Error(`${workerBundle} is missing: run npm run build:worker first`);
  const logs: Record<string, unknown>[] = [];
  // Each console.log of the Worker reaches workerd's structured log as one message: ours are JSON.
  const collect = (message: string) => {
    for (const text of message.split('\n')) {
      const line = text.trim();
      if (!line.startsWith('{')) continue;
      try {
        logs.push(JSON.parse(line));
      } catch {
        // Not one of ours.
      }
    }
  };
  const tollgate: V4WorkerOptions = {
    name: 'tollgate',
    // The bundle and the text modules wrangler emitted beside it, listed (Miniflare would
    // otherwise walk the imports and refuse the runtime's dynamic `import()` calls).
    modulesRoot: bundleDir,
    modules: [
      { type: 'ESModule', path: workerBundle },
      ...readdirSync(bundleDir)
        .filter((file) => file.endsWith('.graphql'))
        .map((file) => ({ type: 'Text' as const, path: join(bundleDir, file) })),
    ],
    compatibilityDate: '2026-11-17',
    compatibilityFlags: ['nodejs_compat'],
    // The tests' subgraphs run on loopback, which a deployed Worker refuses unless told otherwise.
    bindings: { ALLOW_PRIVATE_SUBGRAPHS: 'true', ...bindings },
    ...(options.durableObjects ? { durableObjects: options.durableObjects } : {}),
    ...(options.ratelimits ? { ratelimits: options.ratelimits } : {}),
    ...(options.outboundService ? { outboundService: options.outboundService as never } : {}),
  };
  // Reached at client.test (a route of its own); Tollgate stays the default for every other host.
  const client: V4WorkerOptions = {
    name: 'client',
    modules: true,
    script: abandoningClient,
    compatibilityDate: '2026-11-17',
    routes: ['client.test/*'],
    serviceBindings: { TOLLGATE: 'tollgate' },
  };
  const extra: V4WorkerOptions[] = (options.extraWorkers ?? []).map(({ name, script, durableObjects }) => ({
    name,
    modules: true,
    script,
    ...(durableObjects ? { durableObjects } : {}),
    compatibilityDate: '2026-11-17',
    compatibilityFlags: ['nodejs_compat'],
  }));
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      workers: [tollgate, ...(options.withClient ? [client] : []), ...extra],
      // A fixed `request.cf` as Cloudflare's edge sets it (a record: nothing is fetched). The runtime's
      // HTTP executor looks at `request.cf` to know it must not share an AbortController between
      // requests, which workerd forbids (`cf: false` would hide exactly that).
      cf: { colo: 'TST', country: 'XX', asn: 64496 },
      handleStructuredLogs: ({ message }) => collect(message),
      ...(options.persistPath ? { resourcePersistencePath: options.persistPath } : {}),
    }),
  );
  try {
    await mf.ready;
  } catch (error) {
    await mf.dispose().catch(() => {});
    throw error;
  }
  return {
    mf,
    logs,
    async fetch(path, init = {}) {
      const { clientIp, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (clientIp) headers.set('cf-connecting-ip', clientIp);
      const response = await mf.dispatchFetch(`http://tollgate.test${path}`, { ...rest, headers } as never);
      return response as unknown as Response;
    },
    async fetchAbandoned(path, init, abandonAfterMs) {
      if (!options.withClient) throw new Error('fetchAbandoned needs startWorker(…, { withClient: true })');
      const headers = new Headers(init.headers);
      headers.set('x-abandon-after-ms', String(abandonAfterMs));
      const response = await mf.dispatchFetch(`http://client.test${path}`, { ...init, headers } as never);
      return (await response.text()) === 'abandoned' ? 'abandoned' : 'answered';
    },
    async waitForLog(match, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = logs.find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error('log line not seen in time');
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    dispose: () => mf.dispose(),
  };
}

/** Serves one text body over HTTP on a free loopback port, e.g. a supergraph for `SUPERGRAPH`. */
export async function serveText(body: string, status = 200): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/supergraph.graphql`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
