/**
 * A small stand-in for Upstash's REST endpoint, in front of a real redis-server, speaking what
 * @upstash/redis (1.x) sends (read from its pkg/http.ts):
 *
 * - `POST /` with a JSON array `["EVALSHA", sha, "2", k1, k2, ...]` → `{"result": …}`, or an HTTP
 *   400 with `{"error": "NOSCRIPT …"}` for a Redis error (the client throws `UpstashError`);
 * - `POST /pipeline` and `POST /multi-exec` with an array of such arrays → an array of
 *   `{"result"}`/`{"error"}` (auto-pipelining and `multi()` use them);
 * - `Authorization: Bearer <token>`, else 401 `{"error": "Unauthorized"}`;
 * - `Upstash-Encoding: base64`: every string in the result base64-encoded, except the status
 *   reply `OK`; integers stay numbers, nil is null;
 * - `upstash-sync-token` is echoed back (read-your-writes is trivially true on one server).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Redis } from 'ioredis';

export interface UpstashRestServer {
  readonly url: string;
  readonly token: string;
  /** Requests answered so far, by path. */
  readonly requests: Record<string, number>;
  close(): Promise<void>;
}

export interface UpstashRestServerOptions {
  /** The redis-server to forward to. */
  readonly redisUrl: string;
  readonly token?: string;
  readonly port?: number;
}

export async function startUpstashRestServer(options: UpstashRestServerOptions): Promise<UpstashRestServer> {
  const token = options.token ?? 'test-token';
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  await redis.connect();
  const requests: Record<string, number> = {};

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { error: String(error) }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/\/+$/, '') || '/';
    // The counts, for a test that runs this stand-in in a process of its own (upstash-rest-process.ts).
    if (req.method === 'GET' && path === '/__requests') return send(res, 200, requests);
    requests[path] = (requests[path] ?? 0) + 1;
    const body = await readBody(req);
    if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, { error: 'Unauthorized' });
    if (req.method !== 'POST') return send(res, 405, { error: 'Method not allowed' });
    const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
    const syncToken = req.headers['upstash-sync-token'];
    if (typeof syncToken === 'string') res.setHeader('upstash-sync-token', syncToken);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return send(res, 400, { error: 'ERR failed to parse command' });
    }
    const encode = (value: unknown): unknown => encodeResult(value, base64);

    if (path === '/') {
      if (!isCommand(parsed)) return send(res, 400, { error: 'ERR failed to parse command' });
      try {
        return send(res, 200, { result: encode(await run(parsed)) });
      } catch (error) {
        return send(res, 400, { error: errorMessage(error) });
      }
    }
    if (path === '/pipeline' || path === '/multi-exec') {
      if (!Array.isArray(parsed) || !parsed.every(isCommand)) {
        return send(res, 400, { error: 'ERR failed to parse pipeline request' });
      }
      const commands = parsed as string[][];
      if (path === '/pipeline') {
        const results = [];
        for (const command of commands) {
          try {
            results.push({ result: encode(await run(command)) });
          } catch (error) {
            results.push({ error: errorMessage(error) });
          }
        }
        return send(res, 200, results);
      }
      const multi = redis.multi();
      for (const [name, ...args] of commands) multi.callBuffer(name!, ...args);
      try {
        const replies = (await multi.exec()) ?? [];
        return send(
          res,
          200,
          replies.map(([error, result]) => (error ? { error: errorMessage(error) } : { result: encode(result) })),
        );
      } catch (error) {
        return send(res, 400, { error: errorMessage(error) });
      }
    }
    return send(res, 404, { error: `ERR unknown path ${path}` });
  }

  function run([name, ...args]: string[]): Promise<unknown> {
    return redis.callBuffer(name!, ...args);
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    token,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      redis.disconnect();
    },
  };
}

function isCommand(value: unknown): value is string[] {
  return Array.isArray(value) && value.length > 0 && value.every((part) => typeof part === 'string' || typeof part === 'number');
}

/** Redis replies as Upstash returns them: Buffers become (base64) strings, recursively. */
function encodeResult(value: unknown, base64: boolean): unknown {
  if (Buffer.isBuffer(value)) {
    const text = value.toString('utf8');
    if (text === 'OK') return 'OK';
    return base64 ? value.toString('base64') : text;
  }
  if (Array.isArray(value)) return value.map((item) => encodeResult(item, base64));
  if (value === undefined) return null;
  return value;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
