import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServerAdapter } from '@whatwg-node/server';
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

/** The listener could not bind; the message says why in one line, for the operator. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host}:${port}`;
  if (error.code === 'EADDRINUSE') return new ListenError(`${where} is already in use: stop what holds it, or set PORT (and HOST) to another address`);
  if (error.code === 'EACCES') return new ListenError(`not allowed to listen on ${where}: choose a PORT above 1023, or run with the rights to bind it`);
  if (error.code === 'EADDRNOTAVAIL') return new ListenError(`${host} is not an address of this machine: set HOST to one (0.0.0.0 for all, 127.0.0.1 for this machine only)`);
  return error;
}

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

  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => reject(listenError(error, options.host, options.port));
    server.once('error', failed);
    server.listen(options.port, options.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  const url = `http://${host === '[::]' || host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections that are idle now would otherwise hold the server open.
      server.closeIdleConnections();
      const idleSweep = setInterval(() => server.closeIdleConnections(), 100);
      const timeout = new Promise<'timeout'>((resolve) =>
        setTimeout(() => resolve('timeout'), options.drainTimeoutMs ?? 10_000).unref(),
      );
      const result = await Promise.race([drained.then(() => adapter.dispose()).then(() => 'drained' as const), timeout]);
      clearInterval(idleSweep);
      if (result === 'timeout') {
        log.warn('shutdown: drain timed out; closing remaining connections');
        server.closeAllConnections();
      }
    })());

  return { server, url, close };
}
