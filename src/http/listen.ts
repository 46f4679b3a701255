import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The listener could not bind; the message says why in one line, for the operator. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
}

/** The settings that chose the address, named in the messages. */
export interface ListenSettings {
  readonly port: string;
  readonly host: string;
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number, names: ListenSettings): Error {
  const where = `${host}:${port}`;
  if (error.code === 'EADDRINUSE')
    return new ListenError(`${where} is already in use: stop what holds it, or set ${names.port} (and ${names.host}) to another address`);
  if (error.code === 'EACCES')
    return new ListenError(`not allowed to listen on ${where}: choose a ${names.port} above 1023, or run with the rights to bind it`);
  if (error.code === 'EADDRNOTAVAIL')
    return new ListenError(
      `${host} is not an address of this machine: set ${names.host} to one (0.0.0.0 for all, 127.0.0.1 for this machine only)`,
    );
  return error;
}

/**
 * Binds a `node:http` server (the gateway's and the metrics listener alike) and answers its
 * `http://host:port` URL, with the port actually bound; an unspecified address (`0.0.0.0`, `::`)
 * is reached as 127.0.0.1. A bind that fails rejects with a `ListenError` the operator can act on.
 */
export async function listen(
  server: Server,
  port: number,
  host: string,
  names: ListenSettings = { port: 'PORT', host: 'HOST' },
): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => reject(listenError(error, host, port, names));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const { address, port: bound } = server.address() as AddressInfo;
  const reachable = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address.includes(':') ? `[${address}]` : address;
  return `http://${reachable}:${bound}`;
}
