import type { PolicySpec } from '../policies.js';

/** The periods a Rate Limiting binding accepts (`simple.period` in wrangler.toml), in seconds. */
export const bindingPeriods: readonly number[] = [10, 60];

/** A policy a binding cannot count: the policy field at fault, and why. */
export interface BindingPolicyProblem {
  readonly field: 'binding' | 'algorithm' | 'penalty' | 'window' | 'unit' | 'limit';
  readonly message: string;
}

/**
 * Why a policy list cannot be counted by Rate Limiting bindings (`RATE_LIMIT_STORE=cloudflare`),
 * naming the policy and what it asks for; undefined when it can. A binding answers yes or no for
 * a key, with one limit per period of 10 or 60 s fixed in wrangler.toml: so a policy must be a
 * fixed window of 10 or 60 s, without a penalty block, of requests, with one limit for every tier,
 * and name its binding; policies sharing a binding must share its figures. Shadow policies are
 * fine: their binding is called, its "no" logged and never enforced.
 *
 * @example bindingPolicyProblem(defaultPolicies(defaultPolicy, 'RL_DEFAULT')) // { field: 'penalty', message: 'policy "default": a penalty of 40 s: …' }
 */
export function bindingPolicyProblem(specs: readonly PolicySpec[]): BindingPolicyProblem | undefined {
  const figures = new Map<string, { policy: string; limit: number; windowMs: number }>();
  for (const spec of specs) {
    const problem = (field: BindingPolicyProblem['field'], what: string): BindingPolicyProblem => ({
      field,
      message: `policy "${spec.name}": ${what} (RATE_LIMIT_STORE=cloudflare)`,
    });
    if (spec.binding === undefined) return problem('binding', 'no "binding": each policy names the Rate Limiting binding that counts it');
    if (spec.algorithm !== 'fixed-window') {
      return problem(
        'algorithm',
        `algorithm "${spec.algorithm}": a Rate Limiting binding counts requests per period only (use "fixed-window")`,
      );
    }
    if (spec.penaltyMs > 0) {
      return problem('penalty', `a penalty of ${spec.penaltyMs / 1000} s: a Rate Limiting binding has no penalty block (set it to 0)`);
    }
    if (!bindingPeriods.includes(spec.windowMs / 1000)) {
      return problem('window', `a window of ${spec.windowMs / 1000} s: a Rate Limiting binding's period is 10 or 60 s`);
    }
    if (spec.unit !== 'requests') return problem('unit', `unit "${spec.unit}": a Rate Limiting binding counts requests`);
    const limits = new Set(Object.values(spec.limits));
    if (limits.size > 1) {
      return problem(
        'limit',
        `a limit per tier: binding ${spec.binding} has one limit for every tier (one limit, or RATE_LIMIT_STORE=durable-object)`,
      );
    }
    const limit = [...limits][0]!;
    const seen = figures.get(spec.binding);
    if (seen && (seen.limit !== limit || seen.windowMs !== spec.windowMs)) {
      return problem(
        'binding',
        `binding ${spec.binding} is also policy "${seen.policy}"'s, with other figures: a binding has one limit and period`,
      );
    }
    figures.set(spec.binding, { policy: spec.name, limit, windowMs: spec.windowMs });
  }
  return undefined;
}
