import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface SigningKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256' | 'EdDSA';
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

export async function signingKey(kid: string, alg: SigningKey['alg'] = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A signed token; `exp` one hour on unless the payload says otherwise. */
export function signToken(key: SigningKey, payload: JWTPayload, nowSeconds = Math.floor(Date.now() / 1000)): Promise<string> {
  return new SignJWT({ exp: nowSeconds + 3600, iat: nowSeconds, ...payload })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .sign(key.privateKey);
}

export type JwksBehaviour = 'ok' | 'hang' | '500' | 'html';

/** A real JWKS endpoint on loopback: its keys and behaviour can change while it serves. */
export interface JwksServer {
  readonly url: string;
  keys: SigningKey[];
  behaviour: JwksBehaviour;
  /** Delay before an `ok` answer, in milliseconds. */
  delayMs: number;
  /** Requests received. */
  hits: number;
  close(): Promise<void>;
}

export async function startJwksServer(keys: SigningKey[]): Promise<JwksServer> {
  const state = { keys, behaviour: 'ok' as JwksBehaviour, delayMs: 0, hits: 0 };
  const server: Server = createServer((_req, res) => {
    state.hits++;
    if (state.behaviour === 'hang') return; // never answers (closed with the server)
    if (state.behaviour === '500') return void res.writeHead(500).end('{"error":"down"}');
    if (state.behaviour === 'html') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
    const body = JSON.stringify({ keys: state.keys.map((k) => k.jwk) });
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(body), state.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  }) as JwksServer;
}
