import { windowMsOf, type Check, type Decision } from '../policy.js';
import type { DecideOptions, RateLimitStore, StoreVerdict } from '../store.js';

/** What Cloudflare's Rate Limiting binding answers `limit({ key })`. */
export interface RateLimitOutcome {
  readonly success: boolean;
}

/**
 * The part of a Rate Limiting binding (`[[ratelimits]]` in wrangler.toml) the store uses. Only
 * `limit({ key })`: the limit and period are the binding's configuration. (Miniflare also accepts
 * `limit`, `period` and `delta` per call; production does not, so they are never sent.)
 */
export interface RateLimitBinding {
  limit(options: { key: string }): Promise<RateLimitOutcome>;
}

/**
 * Rate limiting with Cloudflare's Rate Limiting binding: each check is one `limit({ key })` call
 * on the binding its policy names, under the key `<policy>:<client key>` (so two policies sharing
 * a binding keep their own counters), all of one request's checks in parallel. The binding
 * counts per Cloudflare location, approximately, and answers yes or no: an allowed decision's
 * remaining count and reset are the policy's whole quota (as a failed-open one's: unknown, and
 * kept out of the headers by `answers: 'yes-no'`); a rejection's retry-after is the period, the
 * longest a window can still last. Unlike the other stores, checks are not decided together: a
 * request one policy rejects has still been counted by the others. Which policies it can count is
 * `bindingPolicyProblem`'s (./policies.ts). Wrap it in `ResilientStore`, as every shared store.
 *
 * @example
 * const store = new RateLimitBindingStore({ RL_DEFAULT: env.RL_DEFAULT });
 */
export class RateLimitBindingStore implements RateLimitStore {
  readonly kind = 'cloudflare';
  readonly answers = 'yes-no';
  readonly #bindings: Readonly<Record<string, RateLimitBinding>>;

  constructor(bindings: Readonly<Record<string, RateLimitBinding>>) {
    this.#bindings = bindings;
  }

  async decide(clientKey: string, checks: readonly Check[], options: DecideOptions = {}): Promise<StoreVerdict> {
    options.signal?.throwIfAborted();
    const decisions = await Promise.all(checks.map((check) => this.#decideOne(clientKey, check)));
    return { decisions };
  }

  async #decideOne(clientKey: string, check: Check): Promise<Decision> {
    const binding = check.binding === undefined ? undefined : this.#bindings[check.binding];
    if (!binding) throw new Error(`policy "${check.name}": no Rate Limiting binding ${check.binding ?? '(none named)'}`);
    const outcome: unknown = await binding.limit({ key: `${check.name}:${clientKey}` });
    const success = (outcome as Partial<RateLimitOutcome> | null)?.success;
    if (typeof success !== 'boolean') throw new TypeError(`unexpected Rate Limiting binding reply: ${JSON.stringify(outcome)}`);
    const periodMs = windowMsOf(check.limit);
    return success
      ? { allowed: true, remaining: check.limit.limit, resetMs: periodMs }
      : { allowed: false, reason: 'limited', retryAfterMs: periodMs };
  }

  async close(): Promise<void> {}
}
