import { defaultTier } from '../../identity/identity.js';
import { errorBody, jsonResponse } from '../../http/errors.js';
import type { Logger } from '../../log.js';
import { planner, type PolicySpec, type TierPlan } from '../../ratelimit/policies.js';
import { toSeconds, windowMsOf, type Check } from '../../ratelimit/policy.js';
import { combineOutcomes, failedOpen, type AppliedPolicy, type PolicyOutcome, type RateLimitDecided } from '../../ratelimit/result.js';
import type { RateLimitStore, StoreVerdict } from '../../ratelimit/store.js';
import type { Step } from '../compose.js';
import type { RequestContext } from '../context.js';

export interface RateLimitOptions {
  readonly store: RateLimitStore;
  /** `RATE_LIMIT_POLICIES` (or the one `default` policy): src/ratelimit/policies.ts. */
  readonly policies: readonly PolicySpec[];
  /** Where a store that throws is reported (at most one line per 10 s). */
  readonly log: Logger;
  /** A monotonic clock in milliseconds, for `rateLimitMs`. */
  readonly now: () => number;
}

/**
 * The rate limit: every policy decided for the request's tier — those on the client's address in
 * one store call, those on its identity in another, in parallel (one call when the identity is
 * the address) — and turned here, once, into the request's `RateLimitResult`
 * (src/ratelimit/result.ts) that the headers, the log line and the metrics read. Rejected by an
 * enforced policy: 429 with `Retry-After` and `extensions.policy`, and the rest of the lifecycle
 * (body, gateway) is never reached. Either way the `RateLimit-Policy` and `RateLimit` headers
 * (draft-ietf-httpapi-ratelimit-headers) go on whatever comes back. Exempt paths pass by.
 *
 * @example rateLimit({ store: new MemoryStore(), policies: defaultPolicies(defaultPolicy), log, now: () => performance.now() })
 */
export function rateLimit(options: RateLimitOptions): Step<RequestContext> {
  const { store, log, now } = options;
  const planFor = planner(options.policies, rateLimitPolicyHeader);
  // A yes/no store (the Rate Limiting binding) knows no remaining count: none is reported.
  const remainingKnown = store.answers !== 'yes-no';
  const storeFailed = throttledWarning(log, 10_000);

  async function call(
    c: RequestContext,
    key: string,
    checks: readonly Check[],
    policies: readonly AppliedPolicy[],
  ): Promise<PolicyOutcome[]> {
    let verdict: StoreVerdict;
    try {
      verdict = await store.decide(key, checks, { waitUntil: (p) => c.platform.waitUntil(p) });
    } catch (error) {
      // Stores with their own deadline and breaker never get here; this is the last guard.
      storeFailed(error);
      verdict = { decisions: checks.map((check) => failedOpen(check.limit)), source: 'failed-open', cause: 'error' };
    }
    const source = verdict.source ?? 'store';
    const outcomes: PolicyOutcome[] = [];
    verdict.decisions.forEach((decision, i) => {
      if (decision) outcomes.push({ policy: policies[i]!, decision, source, ...(verdict.cause && { cause: verdict.cause }) });
    });
    return outcomes;
  }

  function decide(c: RequestContext, plan: TierPlan): Promise<PolicyOutcome[]> {
    const address = c.address ?? c.clientKey ?? '';
    const identity = c.clientKey ?? address;
    const checks = plan.spendsCost ? costChecks(c, plan) : plan;
    if (plan.identity.length === 0) return call(c, address, checks.ipChecks, plan.ip);
    if (plan.ip.length === 0) return call(c, identity, checks.identityChecks, plan.identity);
    if (identity === address) return call(c, address, checks.allChecks, plan.all);
    return Promise.all([call(c, address, checks.ipChecks, plan.ip), call(c, identity, checks.identityChecks, plan.identity)]).then(
      ([ip, id]) => [...ip, ...id],
    );
  }

  return async (c, next) => {
    if (c.rateLimit.source === 'exempt') return next();
    const started = now();
    const plan = planFor(c.identity?.tier ?? defaultTier);
    const result = (c.rateLimit = combineOutcomes(await decide(c, plan)));
    c.rateLimitAt = now();
    c.rateLimitMs = c.rateLimitAt - started;
    if (result.allowed || result.policy.shadow) {
      await next();
    } else {
      const retryAfter = toSeconds(result.retryAfterMs);
      c.response = jsonResponse(
        429,
        errorBody(`Too many requests: retry in ${retryAfter} s.`, 'RATE_LIMITED', c.requestId, {
          retryAfter,
          policy: result.policy.name,
        }),
      );
    }
    setRateLimitHeaders(c.response.headers, plan.header, result, remainingKnown);
  };
}

/**
 * The plan's checks with the operation's estimated cost on those of cost policies. An operation
 * that is not priced, or is refused anyway, spends nothing; one that costs more than an enforced
 * policy's whole capacity can never pass it: it is refused (400, `extensions.policy`) and spends
 * nothing either.
 */
function costChecks(c: RequestContext, plan: TierPlan): Pick<TierPlan, 'ipChecks' | 'identityChecks' | 'allChecks'> {
  let cost = c.costRefusal ? 0 : (c.cost ?? 0);
  const over = plan.all.find((p) => p.unit === 'cost' && !p.shadow && cost > p.limit.limit);
  if (over) {
    c.costRefusal = {
      status: 400,
      code: 'COST_ESTIMATED_TOO_EXPENSIVE',
      message: `The operation's estimated cost ${cost} is over the whole capacity ${over.limit.limit} of policy "${over.name}".`,
      extensions: { estimatedCost: cost, policy: over.name, capacity: over.limit.limit },
    };
    cost = 0;
  }
  const priced = (checks: readonly Check[], policies: readonly AppliedPolicy[]): Check[] =>
    checks.map((check, i) => (policies[i]!.unit === 'cost' ? { ...check, cost } : check));
  return {
    ipChecks: priced(plan.ipChecks, plan.ip),
    identityChecks: priced(plan.identityChecks, plan.identity),
    allChecks: priced(plan.allChecks, plan.all),
  };
}

/**
 * `RateLimit-Policy: "ip";q=300;w=60, "user";q=1000;w=60`: each enforced policy, its quota and
 * window. A policy counting cost units is marked `;tollgate-unit="cost"`: the draft's quota-unit
 * registry (`qu`) has no unit for it, and it asks for vendor-prefixed names for parameters of an
 * implementation's own.
 */
export function rateLimitPolicyHeader(policies: readonly AppliedPolicy[]): string {
  return policies.map((p) => `"${p.name}";q=${p.limit.limit};w=${toSeconds(windowMsOf(p.limit))}${unitMark(p)}`).join(', ');
}

/** The parameter that marks a policy counting cost units (empty for one counting requests). */
function unitMark(policy: AppliedPolicy): string {
  return policy.unit === 'cost' ? costUnitParameter : '';
}

export const costUnitParameter = ';tollgate-unit="cost"';

/**
 * `RateLimit: "<policy>";r=<remaining>;t=<seconds>` for the reported policy, and `Retry-After` on
 * a rejection (its `t` the same). None when only shadow policies apply. With `remainingKnown`
 * false (a store that answers only yes or no), an allowed request gets no `RateLimit` (its `r` is
 * required and unknown), a rejection `r=0` (what the "no" means) with the store's retry-after.
 */
export function setRateLimitHeaders(headers: Headers, policyHeader: string, result: RateLimitDecided, remainingKnown = true): void {
  if (result.policy.shadow) return;
  headers.set('RateLimit-Policy', policyHeader);
  if (result.allowed) {
    if (!remainingKnown) return;
    headers.set('RateLimit', `"${result.policy.name}";r=${result.remaining};t=${toSeconds(result.resetMs)}${unitMark(result.policy)}`);
  } else {
    const retryAfter = String(toSeconds(result.retryAfterMs));
    headers.set('RateLimit', `"${result.policy.name}";r=0;t=${retryAfter}${unitMark(result.policy)}`);
    headers.set('Retry-After', retryAfter);
  }
}

/** Logs a failure at most once per interval, with the count since the last line. */
function throttledWarning(log: Logger, intervalMs: number): (error: unknown) => void {
  let lastAt = -Infinity;
  let suppressed = 0;
  return (error) => {
    const at = Date.now();
    if (at - lastAt < intervalMs) {
      suppressed++;
      return;
    }
    log.warn('rate-limit store failed; request allowed (fail open)', { error, suppressedSinceLast: suppressed });
    lastAt = at;
    suppressed = 0;
  };
}
