import { clientKey } from '../../identity/clientKey.js';
import type { TrustProxy } from '../../identity/trustProxy.js';
import type { Step } from '../compose.js';
import type { RequestContext } from '../context.js';

/**
 * Client identity: the key the rate limit counts under, from the connection's address and, only
 * where a trusted proxy put them there, forwarding headers (src/identity/clientKey.ts). Exempt
 * paths get none.
 *
 * @example clientIdentity(parseTrustProxy('cloudflare')!)
 */
export function clientIdentity(trustProxy: TrustProxy): Step<RequestContext> {
  return (c, next) => {
    if (c.rateLimit.source !== 'exempt') c.clientKey = c.address = clientKey(c.request.headers, c.platform.clientAddress, trustProxy);
    return next();
  };
}
