/**
 * Bursts of concurrent federated queries from several clients against gateways on loopback, for
 * the exactness-under-load tests and bench/failopen.ts. Clients are told apart by
 * `X-Forwarded-For` (the gateways run with `TRUST_PROXY=1`); each client's requests are spread
 * round-robin over the gateways and all sent at once.
 */
import { Agent, request as httpRequest } from 'node:http';

/** topProducts → reviews → author → reviews: three subgraphs, four fetches per request. */
export const burstQuery = '{ topProducts { upc name reviews { body author { name reviews { body } } } } }';

export interface BurstResult {
  /** Requests answered 200, per client, in the order of `clients`. */
  readonly allowed: readonly number[];
  /** Requests answered 429, per client. */
  readonly limited: readonly number[];
  /** Any other status or a transport error, per client. */
  readonly other: readonly number[];
}

/** An HTTP agent for a burst: enough sockets for every request of the burst at once. */
export function burstAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: Infinity });
}

/**
 * `perClient` concurrent POSTs of `burstQuery` for each client address in `clients`, all at
 * once, over `gatewayUrls` round-robin; counts the statuses.
 */
export async function burst(
  gatewayUrls: readonly string[],
  clients: readonly string[],
  perClient: number,
  agent: Agent,
): Promise<BurstResult> {
  const body = JSON.stringify({ query: burstQuery });
  const statuses = await Promise.all(
    clients.map((client) =>
      Promise.all(Array.from({ length: perClient }, (_, i) => post(gatewayUrls[i % gatewayUrls.length]!, client, body, agent))),
    ),
  );
  return {
    allowed: statuses.map((list) => list.filter((s) => s === 200).length),
    limited: statuses.map((list) => list.filter((s) => s === 429).length),
    other: statuses.map((list) => list.filter((s) => s !== 200 && s !== 429).length),
  };
}

/** The status of one POST /graphql (0 on a transport error), body read in full. */
function post(url: string, client: string, body: string, agent: Agent): Promise<number> {
  return new Promise((resolve) => {
    const req = httpRequest(
      `${url}/graphql`,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-forwarded-for': client,
        },
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', () => resolve(0));
      },
    );
    req.once('error', () => resolve(0));
    req.end(body);
  });
}

/** Client addresses of one round: `count` addresses, distinct for each `round` below 256 (198.18.0.0/15, benchmarking). */
export function roundClients(round: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `198.18.${round % 256}.${i + 1}`);
}
