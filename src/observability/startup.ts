import type { Config } from '../config.js';
import type { ApiKeyTable } from '../identity/apiKeys.js';
import type { TrustProxy } from '../identity/trustProxy.js';

/**
 * Settings whose values never reach a log line: the line says only whether they are set. By the
 * name's end (`metricsToken`, `upstashToken`, `logSalt`, `supergraphSource.authorization`), so that `maxTokens` is shown.
 */
const secretName = /(token|secret|password|salt|apikey|credentials?|authorization|^key)$/i;

/**
 * The effective configuration for the start-up log line, minus secrets: every setting of
 * `Config` (new ones included without changes here) and of the observability settings; secret
 * ones as `"[set]"`, URLs without their credentials, the trusted proxies as text.
 *
 * @example log.info('started', { config: effectiveConfig(config) })
 */
export function effectiveConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // The observability settings beside the others, as the variables are.
  const { observability, ...rest } = config;
  for (const [name, value] of Object.entries({ ...rest, ...observability })) {
    out[name] = describe(name, value);
  }
  return out;
}

function describe(name: string, value: unknown): unknown {
  if (value === undefined) return undefined;
  if (secretName.test(name)) return '[set]';
  if (name === 'trustProxy') return describeTrustProxy(value as TrustProxy);
  if (name === 'apiKeys') {
    // Digests only, but of no use in a log line: how many.
    const { size } = value as ApiKeyTable;
    return `${size} key${size === 1 ? '' : 's'}`;
  }
  if (typeof value === 'string') return withoutCredentials(value);
  if (Array.isArray(value)) return value.map((item) => describe('', item));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, describe(key, item)]));
  }
  return value;
}

/** `redis://:hunter2@host:6379/0` → `redis://:***@host:6379/0`; other strings unchanged. */
export function withoutCredentials(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  try {
    const url = new URL(value);
    if (!url.password && !url.username) return value;
    if (url.password) url.password = '***';
    else url.username = '***';
    return url.toString();
  } catch {
    return value;
  }
}

function describeTrustProxy(trust: TrustProxy): string {
  switch (trust.kind) {
    case 'none':
    case 'cloudflare':
      return trust.kind;
    case 'hops':
      return `${trust.hops} hop${trust.hops === 1 ? '' : 's'}`;
    case 'cidrs':
      return trust.ranges.map(([address, bits]) => `${address.toString()}/${bits}`).join(',');
  }
}
