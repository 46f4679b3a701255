import type { Decision, RateLimitPolicy } from '../../src/ratelimit/policy.js';
import { clientKeys } from '../../src/ratelimit/redis/decideScript.js';
import type { Check, DecideOptions, DecisionSource, FailOpenCause, RateLimitStore } from '../../src/ratelimit/store.js';

/** One decision with how it was reached: `store` unless the verdict says otherwise. */
export type StoreDecision = Decision & {
  readonly source?: DecisionSource;
  readonly cause?: FailOpenCause;
};

const singleChecks = new WeakMap<RateLimitPolicy, readonly Check[]>();

/** The store checks of one fixed-window policy named `default`: the seed's policy. */
export function defaultChecks(policy: RateLimitPolicy): readonly Check[] {
  let checks = singleChecks.get(policy);
  if (!checks) {
    checks = [{ name: 'default', limit: policy, cost: 1 }];
    singleChecks.set(policy, checks);
  }
  return checks;
}

/**
 * One request of `clientKey` under one fixed-window policy named `default`: the seed's decision,
 * for the tests written against one policy.
 */
export async function decideOne(
  store: RateLimitStore,
  clientKey: string,
  policy: RateLimitPolicy,
  options?: DecideOptions,
): Promise<StoreDecision> {
  const verdict = await store.decide(clientKey, defaultChecks(policy), options);
  const decision = verdict.decisions[0];
  if (!decision) throw new Error('store answered no decision');
  return { ...decision, source: verdict.source ?? 'store', ...(verdict.cause && { cause: verdict.cause }) };
}

/** The `default` fixed window's two Redis keys for `clientKey`: block and count. */
export function defaultKeys(prefix: string, clientKey: string): [blockKey: string, countKey: string] {
  const [blockKey, countKey] = clientKeys(prefix, clientKey, defaultChecks({ limit: 1, windowMs: 1, penaltyMs: 0 }));
  return [blockKey!, countKey!];
}
