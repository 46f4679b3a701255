import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServerAdapter } from '@whatwg-node/server';
import { listen } from '../http/listen.js';
import type { Handler } from '../lifecycle/handle.js';
import type { Logger } from '../log.js';
import { answerClientError } from '../security/clientError.js';

export interface NodeServerOptions {
  readonly handler: Handler;
  readonly port: number;
  readonly host: string;
  readonly log: Logger;
  /** How long shutdown waits for in-flight requests and `waitUntil` work before closing anyway. */
  readonly drainTimeoutMs?: number;
}

export { ListenError } from '../http/listen.js';

export interface NodeServer {
  readonly server: Server;
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  /** Stops accepting, lets in-flight requests and pending `waitUntil` work finish. Idempotent. */
  close(): Promise<void>;
}

/**
 * Serves a lifecycle handler on `node:http`. The request/response conversion is
 * @whatwg-node/server's; the client address is the socket's, and `waitUntil` promises are
 * tracked by the adapter so shutdown can wait for them.
 */
export async function startNodeServer(options: NodeServerOptions): Promise<NodeServer> {
  const { handler, log } = options;
  const adapter = createServerAdapter<{ req: IncomingMessage; waitUntil: (p: Promise<unknown>) => void }>(
    (request, serverContext) =>
      handler(request, {
        clientAddress: serverContext.req?.socket?.remoteAddress,
        req: serverContext.req,
        waitUntil: (promise) => serverContext.waitUntil(promise.then(() => undefined)),
      }),
    { disposeOnProcessTerminate: false },
  );
  const server = createServer(adapter);
  // Bound slow clients: a request must arrive whole within 30 s, headers within 15 s.
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  // Requests Node's parser refuses (malformed, headers over 16 KiB) get the one error shape too.
  server.on('clientError', answerClientError);

  const url = await listen(server, options.port, options.host);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections that are idle now would otherwise hold the server open.
      server.closeIdleConnections();
      const idleSweep = setInterval(() => server.closeIdleConnections(), 100);
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), options.drainTimeoutMs ?? 10_000).unref());
      const result = await Promise.race([drained.then(() => adapter.dispose()).then(() => 'drained' as const), timeout]);
      clearInterval(idleSweep);
      if (result === 'timeout') {
        log.warn('shutdown: drain timed out; closing remaining connections');
        server.closeAllConnections();
      }
    })());

  return { server, url, close };
}
