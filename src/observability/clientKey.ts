import { createHmac, randomBytes } from 'node:crypto';

/**
 * How a client key (an IP address, or a /64 prefix) is written to the log: as an HMAC-SHA256
 * under a secret salt, cut to 16 hex characters, so that lines of one client can be grouped
 * without the log holding addresses; or as it is, when the operator asks (`LOG_CLIENT_IP=true`).
 *
 * The salt must stay secret: IPv4 has only 2³² addresses, so anyone holding the salt can
 * reverse a hash by trying them all. Without `LOG_SALT` a random salt is drawn per process
 * (per isolate on Workers), and hashes then match only within it.
 *
 * @example const logKey = clientLogKey({ logClientIp: false, salt: env.LOG_SALT }); logKey('192.0.2.1') // '9f0c…'
 */
export function clientLogKey(options: { readonly logClientIp: boolean; readonly salt: string | undefined }): (key: string) => string {
  if (options.logClientIp) return (key) => key;
  const salt = options.salt ?? randomBytes(32).toString('hex');
  // A client's requests come again and again: its hash is remembered rather than computed for
  // each request's line (bounded; emptied when full).
  const hashes = new Map<string, string>();
  return (key) => {
    let hash = hashes.get(key);
    if (hash === undefined) {
      hash = createHmac('sha256', salt).update(key).digest('hex').slice(0, 16);
      if (hashes.size >= maxRemembered) hashes.clear();
      hashes.set(key, hash);
    }
    return hash;
  };
}

/** Client keys whose hashes are remembered at once (an address key is at most about 45 characters). */
const maxRemembered = 1024;
