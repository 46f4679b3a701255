import type { CurrentEstimator } from '../../cost/current.js';
import { actualCost } from '../../cost/actual.js';
import type { Logger } from '../../log.js';
import { refundable, toSeconds, type Refund } from '../../ratelimit/policy.js';
import { wasDecided, type PolicyOutcome, type RateLimitDecided } from '../../ratelimit/result.js';
import type { RateLimitStore } from '../../ratelimit/store.js';
import type { Step } from '../compose.js';
import type { RequestContext } from '../context.js';

export interface CostReportOptions {
  readonly estimator: CurrentEstimator;
  readonly store: RateLimitStore;
  /** `COST_EXTENSIONS`: `extensions.cost` on an executed operation's result when a cost policy applies. */
  readonly extensions: boolean;
  /** The lifecycle's monotonic clock, in milliseconds (what `rateLimitAt` is read on). */
  readonly now: () => number;
  readonly log: Logger;
}

/**
 * After a priced operation has executed: its actual cost (src/cost/actual.ts, over the data the
 * runtime returned, told through the runtime's cost report: src/gateway/costReport.ts), and then
 *
 * - `extensions.cost` (with `COST_EXTENSIONS` and a cost policy): `requestedQueryCost` (the
 *   estimate charged), `actualQueryCost`, and `throttleStatus { maximumAvailable,
 *   currentlyAvailable, restoreRate }` of the cost policy with the smallest remaining share —
 *   Shopify's names. A window refills nothing (`restoreRate: 0`) and adds `resetsInSeconds`;
 *   `currentlyAvailable` counts the refund this operation is about to get;
 * - refunds: each cost policy with `"refund": true` that charged the estimate gets back what the
 *   operation cost less than it (src/ratelimit/policy.ts `refundState`: never beyond capacity,
 *   never into another window), through `waitUntil`, off the request's path.
 *
 * An operation that was not executed (refused before execution, or its response streamed) has
 * no actual cost: nothing is reported and nothing given back; nor is a batch with such an
 * operation in it. A batch's operations add up; its results carry no `extensions.cost` (they are
 * several). An operation that returned errors gets nothing back: what failed may have cost the
 * subgraphs as much as was estimated (a timeout most of all), and its data says nothing of it.
 *
 * @example costReport({ estimator, store, extensions: true, now: () => performance.now(), log })
 */
export function costReport(options: CostReportOptions): Step<RequestContext> {
  const { estimator, store, now, log } = options;
  return async (c, next) => {
    const costs = estimator.get();
    const charged = c.cost;
    if (!costs || charged === undefined || c.costRefusal) return next();
    const rateLimit = c.rateLimit;
    // Only `extensions.cost` reads the cost policies' outcomes.
    const costOutcomes = options.extensions && wasDecided(rateLimit) ? rateLimit.outcomes.filter((o) => o.policy.unit === 'cost') : [];
    const wantsExtension = options.extensions && costOutcomes.length > 0 && !c.batch;
    // One operation whose actual cost cannot be told makes the request's unknown.
    let unknown = false;
    let executed = 0;
    let failed = false;
    c.costReport = {
      executed(document, operationName, variables, data, errors) {
        executed += 1;
        if (errors > 0) failed = true;
        const actual = actualCost(costs.schema, document, operationName, variables, data)?.cost;
        if (actual === undefined) unknown = true;
        c.actualCost = unknown ? undefined : (c.actualCost ?? 0) + actual!;
        if (!wantsExtension) return undefined;
        return costExtension(charged, actual, costOutcomes, elapsed(c, now), !failed);
      },
    };
    await next();
    // An operation of the request not reported (streamed): the request's actual cost is not known.
    if (executed !== c.operations) c.actualCost = undefined;
    const actual = c.actualCost;
    if (actual === undefined || failed || actual >= charged || !wasDecided(rateLimit)) return;
    const refunds = refundsByKey(c, rateLimit, charged - actual, elapsed(c, now));
    if (!refunds || !store.refund) return;
    for (const { key, chargedBy, list } of refunds) {
      c.platform.waitUntil(
        store.refund(key, list, { chargedBy, waitUntil: (p) => c.platform.waitUntil(p) }).catch((error: unknown) => {
          log.debug('rate-limit refund failed', { requestId: c.requestId, error });
        }),
      );
    }
  };
}

/** Milliseconds since the rate limit decided. */
function elapsed(c: RequestContext, now: () => number): number {
  return now() - c.rateLimitAt;
}

/**
 * `extensions.cost`: the request's figures and the state of the cost policy with the smallest
 * remaining share (enforced ones first), after the refund it is about to get.
 */
export function costExtension(
  requested: number,
  actual: number | undefined,
  outcomes: readonly PolicyOutcome[],
  elapsedMs: number,
  refunding: boolean,
): Record<string, unknown> {
  let reported: { outcome: PolicyOutcome; available: number } | undefined;
  let share = Number.POSITIVE_INFINITY;
  const enforced = outcomes.some((o) => !o.policy.shadow);
  for (const outcome of outcomes) {
    const d = outcome.decision;
    if (!d.allowed || (enforced && outcome.policy.shadow)) continue;
    const policy = outcome.policy;
    let available = d.remaining;
    // A bucket has refilled since the decision.
    if (policy.limit.algorithm === 'token-bucket') available += (elapsedMs * policy.limit.refillPerSecond) / 1000;
    if (refunding && policy.refund && actual !== undefined && actual < requested && refunds(outcome)) {
      const refund: Refund = {
        check: { name: policy.name, limit: policy.limit, cost: 1 },
        amount: requested - actual,
        resetMs: d.resetMs,
        elapsedMs,
      };
      if (refundable(refund)) available += refund.amount;
    }
    available = Math.min(policy.limit.limit, available);
    const s = available / policy.limit.limit;
    if (s < share) {
      share = s;
      reported = { outcome, available };
    }
  }
  const extension: Record<string, unknown> = { requestedQueryCost: requested, actualQueryCost: actual ?? null };
  if (reported) {
    const { outcome, available } = reported;
    const limit = outcome.policy.limit;
    extension['throttleStatus'] =
      limit.algorithm === 'token-bucket'
        ? { maximumAvailable: limit.limit, currentlyAvailable: Math.floor(available), restoreRate: limit.refillPerSecond }
        : {
            maximumAvailable: limit.limit,
            currentlyAvailable: Math.floor(available),
            restoreRate: 0,
            resetsInSeconds: toSeconds(Math.max(0, outcome.decision.allowed ? outcome.decision.resetMs - elapsedMs : 0)),
          };
  }
  return extension;
}

/** Whether an outcome charged a store that can give back: the store's decision, or the per-instance limiter's. */
function refunds(outcome: PolicyOutcome): boolean {
  return outcome.decision.allowed && (outcome.source === 'store' || outcome.source === 'fallback');
}

/** The refunds of one store key, to the store that charged them. */
interface KeyRefunds {
  readonly key: string;
  readonly chargedBy: 'store' | 'fallback';
  readonly list: Refund[];
}

/**
 * What the refunding cost policies get back, per store key and per store that charged: each one
 * that charged the estimate (allowed, decided by the store or the per-instance limiter) and whose
 * window is still the one charged.
 */
function refundsByKey(c: RequestContext, rateLimit: RateLimitDecided, amount: number, elapsedMs: number): KeyRefunds[] | undefined {
  let byKey: KeyRefunds[] | undefined;
  const address = c.address ?? c.clientKey ?? '';
  const identity = c.clientKey ?? address;
  for (const outcome of rateLimit.outcomes) {
    const { policy, decision, source } = outcome;
    if (policy.unit !== 'cost' || !policy.refund || !decision.allowed || !refunds(outcome)) continue;
    const refund: Refund = {
      check: { name: policy.name, limit: policy.limit, cost: amount, ...(policy.shadow && { shadow: true }) },
      amount,
      resetMs: decision.resetMs,
      elapsedMs,
    };
    if (!refundable(refund)) continue;
    const key = policy.key === 'ip' ? address : identity;
    const chargedBy = source === 'fallback' ? 'fallback' : 'store';
    byKey ??= [];
    const found = byKey.find((r) => r.key === key && r.chargedBy === chargedBy);
    if (found) found.list.push(refund);
    else byKey.push({ key, chargedBy, list: [refund] });
  }
  return byKey;
}
