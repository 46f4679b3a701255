import type { IdentityConfig } from '../../config.js';
import { apiKeyIdentity } from '../../identity/apiKeys.js';
import { addressIdentity, type Identity, type IdentitySource } from '../../identity/identity.js';
import { bearerToken, createJwtVerifier, type JwtVerifier, type JwtVerifierDeps } from '../../identity/jwt.js';
import { unknownClient } from '../../identity/clientKey.js';
import { errorBody, jsonResponse } from '../../http/errors.js';
import type { Step } from '../compose.js';
import type { RequestContext } from '../context.js';

/**
 * Identity: who is asking, decided before the rate limit counts. The sources of
 * `RATE_LIMIT_IDENTITY` are tried in order; the first that yields an identity decides, and the
 * address (set by client identity) decides when none does. The identity's store key becomes the
 * key the rate limit counts under (`jwt:alice`, `key:acme`, or the address key as before). It
 * also records whether the request carried a valid token or key, for `credentialRequired`.
 * Exempt paths get none.
 *
 * @example identity(config.identity) // after clientIdentity(config.trustProxy)
 */
export function identity(config: IdentityConfig, deps: JwtVerifierDeps = {}): Step<RequestContext> {
  const verifyJwt: JwtVerifier = config.jwt ? createJwtVerifier(config.jwt, deps) : async () => undefined;
  const checks: Record<Exclude<IdentitySource, 'ip'>, (c: RequestContext) => Promise<Identity | undefined>> = {
    jwt: (c) => {
      const token = bearerToken(c.request.headers.get('authorization'));
      return token === undefined ? Promise.resolve(undefined) : verifyJwt(token);
    },
    'api-key': (c) => apiKeyIdentity(c.request.headers.get(config.apiKeyHeader), config.apiKeys),
  };
  const required: Exclude<IdentitySource, 'ip'>[] = [
    ...(config.jwtRequired ? (['jwt'] as const) : []),
    ...(config.apiKeyRequired ? (['api-key'] as const) : []),
  ];
  const onlyAddress = config.sources[0] === 'ip' && required.length === 0;

  return async (c, next) => {
    if (c.rateLimit.source === 'exempt') return next();
    const address = c.address ?? c.clientKey ?? unknownClient;
    if (onlyAddress) {
      c.identity = addressIdentity(address);
      return next();
    }
    const seen = new Map<IdentitySource, Identity | undefined>();
    let decided: Identity | undefined;
    for (const source of config.sources) {
      if (source === 'ip') break;
      const found = await checks[source](c);
      seen.set(source, found);
      if (found) {
        decided = found;
        break;
      }
    }
    if (required.length > 0) {
      let credential = false;
      for (const source of required) {
        const found = seen.has(source) ? seen.get(source) : await checks[source](c);
        if (found) credential = true;
      }
      c.credentialMissing = !credential;
    }
    c.identity = decided ?? addressIdentity(address);
    c.clientKey = c.identity.key;
    await next();
  };
}

/**
 * Credential required (`JWT_REQUIRED`, `API_KEY_REQUIRED`): `/graphql` without a valid token or key
 * is answered 401 `UNAUTHENTICATED` with `WWW-Authenticate: Bearer error="invalid_token"`
 * (RFC 6750). It stands after the rate limit, so a client sending bad credentials is still counted
 * (under its address) and gets 429 once over its limit, rather than costing verifications for free.
 *
 * @example credentialRequired('/graphql')
 */
export function credentialRequired(graphqlPath = '/graphql'): Step<RequestContext> {
  return async (c, next) => {
    if (!c.credentialMissing || c.path !== graphqlPath) return next();
    c.response = jsonResponse(401, errorBody('A valid credential is required.', 'UNAUTHENTICATED', c.requestId));
    c.response.headers.set('WWW-Authenticate', 'Bearer error="invalid_token"');
  };
}
