import type { Check, Decision, Refund } from '../policy.js';
import type { DecideOptions, RateLimitStore, StoreVerdict } from '../store.js';

/** The rate-limit object's RPC surface (src/worker/rateLimiterObject.ts), as its stub exposes it. */
export interface RateLimiterStub {
  decide(checks: readonly Check[]): Promise<Decision[]>;
  refund(refunds: readonly Refund[]): Promise<void>;
}

/** The part of a Durable Object namespace binding the store uses. */
export interface RateLimiterNamespace {
  idFromName(name: string): unknown;
  get(id: never): RateLimiterStub;
}

/**
 * Rate limiting in Cloudflare Durable Objects: one object per client key holds every policy of
 * that key, so a request's decision for the key is one RPC call to one object, which decides it
 * alone (an object runs one call at a time): exact across isolates and locations, no Redis. The
 * stub is made per call (workerd ties I/O objects to the request that made them). Wrap it in
 * `ResilientStore` for the deadline, fail-open, breaker and block cache, as every shared store.
 *
 * @example
 * const store = new DurableObjectStore(env.RATE_LIMITER);
 */
export class DurableObjectStore implements RateLimitStore {
  readonly kind = 'durable-object';
  readonly #namespace: RateLimiterNamespace;
  readonly #prefix: string;

  constructor(namespace: RateLimiterNamespace, options: { readonly keyPrefix?: string } = {}) {
    this.#namespace = namespace;
    this.#prefix = options.keyPrefix ?? '';
  }

  async decide(clientKey: string, checks: readonly Check[], options: DecideOptions = {}): Promise<StoreVerdict> {
    options.signal?.throwIfAborted();
    const decisions = await this.#stub(clientKey).decide(checks);
    if (!Array.isArray(decisions) || decisions.length !== checks.length) {
      throw new TypeError(`unexpected rate-limit object reply: ${JSON.stringify(decisions)}`);
    }
    return { decisions };
  }

  async refund(clientKey: string, refunds: readonly Refund[], options: DecideOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    await this.#stub(clientKey).refund(refunds);
  }

  #stub(clientKey: string): RateLimiterStub {
    return this.#namespace.get(this.#namespace.idFromName(`${this.#prefix}${clientKey}`) as never);
  }

  async close(): Promise<void> {}
}
