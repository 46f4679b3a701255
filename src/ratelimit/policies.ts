import { defaultTier } from '../identity/identity.js';
import { algorithms, type Algorithm, type Check, type Limit, type RateLimitPolicy } from './policy.js';
import type { AppliedPolicy } from './result.js';

/**
 * One entry of `RATE_LIMIT_POLICIES` (docs/architecture.md, "Identity and policies"), validated.
 *
 * @example
 * { "name": "user", "key": "identity", "limit": { "free": 50, "pro": 1000, "default": 50 }, "window": 60, "penalty": 40 }
 */
export interface PolicySpec {
  readonly name: string;
  readonly key: 'ip' | 'identity';
  readonly algorithm: Algorithm;
  /** The limit per tier; `default` is always there. */
  readonly limits: Readonly<Record<string, number>>;
  /** Fixed and sliding window: the window in ms. */
  readonly windowMs: number;
  /** Fixed window: the block once over the limit, in ms; 0 for none. */
  readonly penaltyMs: number;
  /** Token bucket: tokens refilled per second. */
  readonly refillPerSecond: number;
  /** `requests`: each request takes 1; `cost`: it takes the operation's estimated cost. */
  readonly unit: 'requests' | 'cost';
  readonly mode: 'enforce' | 'shadow';
  /**
   * A `cost` policy only: what the operation was charged beyond its actual cost is given back
   * once it has executed (src/lifecycle/steps/costReport.ts). Default false.
   */
  readonly refund: boolean;
  /**
   * `RATE_LIMIT_STORE=cloudflare`: the Rate Limiting binding that counts this policy (its name in
   * the Worker's env, a `[[ratelimits]]` entry of wrangler.toml). Other stores ignore it.
   */
  readonly binding?: string;
}

/** Most policies in one list: each costs a few arguments of every store call. */
export const maxPolicies = 16;
const maxTiers = 64;
const namePattern = /^[A-Za-z0-9_.-]{1,64}$/;
const maxSeconds = 86_400 * 365;
const fields = new Set(['name', 'key', 'limit', 'algorithm', 'window', 'penalty', 'refillPerSecond', 'unit', 'mode', 'refund', 'binding']);
/** A Worker binding's name: what wrangler accepts as a JavaScript identifier in `env`. */
const bindingPattern = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;

/** A policy list that cannot be used; the message names the policy and the field. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

/**
 * The policy list of an unset `RATE_LIMIT_POLICIES`: one `default` fixed window from
 * `RATE_LIMIT_*`, on the identity. With `RATE_LIMIT_IDENTITY=ip` (the default) the identity is the
 * address, so this is the seed's limit; an operator who names a credential source gets limits
 * per verified identity without writing a policy list.
 */
export function defaultPolicies(policy: RateLimitPolicy, binding?: string): PolicySpec[] {
  return [
    {
      name: 'default',
      key: 'identity',
      algorithm: 'fixed-window',
      limits: { [defaultTier]: policy.limit },
      windowMs: policy.windowMs,
      penaltyMs: policy.penaltyMs,
      refillPerSecond: 0,
      unit: 'requests',
      mode: 'enforce',
      refund: false,
      ...(binding !== undefined && { binding }),
    },
  ];
}

/**
 * Parses and validates `RATE_LIMIT_POLICIES` (a JSON list); throws `PolicyError` naming the policy
 * and the field at the first problem.
 */
export function parsePolicies(text: string): PolicySpec[] {
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch (error) {
    throw new PolicyError(`not JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(list) || list.length === 0) throw new PolicyError('expected a JSON list of at least one policy');
  if (list.length > maxPolicies) throw new PolicyError(`at most ${maxPolicies} policies, got ${list.length}`);
  const names = new Set<string>();
  return list.map((entry, i) => {
    const spec = parsePolicy(entry, i);
    if (names.has(spec.name)) throw new PolicyError(`policy "${spec.name}": field "name": used twice`);
    names.add(spec.name);
    return spec;
  });
}

function parsePolicy(entry: unknown, index: number): PolicySpec {
  const where = `policy ${index + 1}`;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new PolicyError(`${where}: expected an object`);
  const o = entry as Record<string, unknown>;
  const name = o['name'];
  if (typeof name !== 'string' || !namePattern.test(name)) {
    throw new PolicyError(`${where}: field "name": expected 1–64 letters, digits, "_", "." or "-", got ${show(name)}`);
  }
  const problem = (field: string, expected: string): PolicyError =>
    new PolicyError(`policy "${name}": field "${field}": expected ${expected}, got ${show(o[field])}`);
  for (const field of Object.keys(o)) {
    if (!fields.has(field)) throw new PolicyError(`policy "${name}": field "${field}": unknown (fields: ${[...fields].join(', ')})`);
  }
  const key = o['key'] ?? 'identity';
  if (key !== 'ip' && key !== 'identity') throw problem('key', '"ip" or "identity"');
  const algorithm = o['algorithm'] ?? 'fixed-window';
  if (!algorithms.includes(algorithm as Algorithm)) throw problem('algorithm', algorithms.map((a) => `"${a}"`).join(', '));
  const unit = o['unit'] ?? 'requests';
  if (unit !== 'requests' && unit !== 'cost') throw problem('unit', '"requests" or "cost"');
  const mode = o['mode'] ?? 'enforce';
  if (mode !== 'enforce' && mode !== 'shadow') throw problem('mode', '"enforce" or "shadow"');
  const refund = o['refund'] ?? false;
  if (typeof refund !== 'boolean') throw problem('refund', 'true or false');
  if (refund && unit !== 'cost') throw problem('refund', 'nothing: only a policy of "unit": "cost" refunds');
  const binding = o['binding'];
  if (binding !== undefined && (typeof binding !== 'string' || !bindingPattern.test(binding))) {
    throw problem('binding', 'the name of a Rate Limiting binding (letters, digits, "_")');
  }

  const limits = parseLimits(o['limit'], () =>
    problem('limit', 'a positive integer, or an object of tiers to positive integers with a "default"'),
  );
  const seconds = (field: string, min: number): number => {
    const value = o[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > maxSeconds) {
      throw problem(field, `whole seconds from ${min} to ${maxSeconds}`);
    }
    return value * 1000;
  };
  let windowMs = 0;
  let penaltyMs = 0;
  let refillPerSecond = 0;
  if (algorithm === 'token-bucket') {
    for (const field of ['window', 'penalty'])
      if (o[field] !== undefined) throw problem(field, 'nothing: a token bucket has "refillPerSecond"');
    const rate = o['refillPerSecond'];
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0 || rate > 1e9)
      throw problem('refillPerSecond', 'a positive number');
    refillPerSecond = rate;
  } else {
    if (o['refillPerSecond'] !== undefined) throw problem('refillPerSecond', 'nothing: only a token bucket refills');
    windowMs = seconds('window', 1);
    if (o['penalty'] !== undefined) {
      if (algorithm !== 'fixed-window') throw problem('penalty', 'nothing: only a fixed window has a penalty');
      penaltyMs = seconds('penalty', 0);
    }
  }
  return {
    name,
    key,
    algorithm: algorithm as Algorithm,
    limits,
    windowMs,
    penaltyMs,
    refillPerSecond,
    unit,
    mode,
    refund,
    ...(binding !== undefined && { binding }),
  };
}

function parseLimits(value: unknown, problem: () => PolicyError): Record<string, number> {
  const positive = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 1_000_000_000;
  if (positive(value)) return { [defaultTier]: value };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw problem();
  const entries = Object.entries(value);
  if (entries.length > maxTiers || !entries.every(([tier, n]) => tier.length > 0 && tier.length <= 64 && positive(n))) throw problem();
  if (!(defaultTier in value)) throw problem();
  return Object.fromEntries(entries) as Record<string, number>;
}

function show(value: unknown): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/** What the rate-limit step does for requests of one tier: the checks per key, and the header. */
export interface TierPlan {
  /** The policies on the client's address, and their checks (same order). */
  readonly ip: readonly AppliedPolicy[];
  readonly ipChecks: readonly Check[];
  /** The policies on the client's identity, and their checks. */
  readonly identity: readonly AppliedPolicy[];
  readonly identityChecks: readonly Check[];
  /** Both, in one list: one store call when the identity is the address. */
  readonly all: readonly AppliedPolicy[];
  readonly allChecks: readonly Check[];
  /** `RateLimit-Policy`: every enforced policy, its quota and window (`w`). Empty when none. */
  readonly header: string;
  /** Whether a policy spends the operation's cost: its checks take the cost per request. */
  readonly spendsCost: boolean;
}

/**
 * The plan for each tier, made once per tier a policy names (every other tier gets `default`'s),
 * so the request path only looks one up.
 */
export function planner(specs: readonly PolicySpec[], header: (policies: readonly AppliedPolicy[]) => string): (tier: string) => TierPlan {
  const named = new Set(specs.flatMap((spec) => Object.keys(spec.limits)));
  const plans = new Map<string, TierPlan>();
  const make = (tier: string): TierPlan => {
    const applied = specs.map((spec) => applyPolicy(spec, tier));
    const ip = applied.filter((p) => p.key === 'ip');
    const identity = applied.filter((p) => p.key === 'identity');
    const all = [...ip, ...identity];
    return {
      ip,
      ipChecks: ip.map(toCheck),
      identity,
      identityChecks: identity.map(toCheck),
      all,
      allChecks: all.map(toCheck),
      header: header(all.filter((p) => !p.shadow)),
      spendsCost: all.some((p) => p.unit === 'cost'),
    };
  };
  return (tier) => {
    const known = named.has(tier) ? tier : defaultTier;
    let plan = plans.get(known);
    if (!plan) {
      plan = make(known);
      plans.set(known, plan);
    }
    return plan;
  };
}

function applyPolicy(spec: PolicySpec, tier: string): AppliedPolicy {
  const own = Object.hasOwn(spec.limits, tier);
  const count = own ? spec.limits[tier]! : spec.limits[defaultTier]!;
  const limit: Limit =
    spec.algorithm === 'token-bucket'
      ? { algorithm: 'token-bucket', limit: count, refillPerSecond: spec.refillPerSecond }
      : spec.algorithm === 'sliding-window'
        ? { algorithm: 'sliding-window', limit: count, windowMs: spec.windowMs }
        : { algorithm: 'fixed-window', limit: count, windowMs: spec.windowMs, penaltyMs: spec.penaltyMs };
  return {
    name: spec.name,
    key: spec.key,
    limit,
    tier: own ? tier : defaultTier,
    shadow: spec.mode === 'shadow',
    unit: spec.unit,
    ...(spec.refund && { refund: true }),
    ...(spec.binding !== undefined && { binding: spec.binding }),
  };
}

function toCheck(policy: AppliedPolicy): Check {
  return {
    name: policy.name,
    limit: policy.limit,
    cost: 1,
    ...(policy.shadow && { shadow: true }),
    ...(policy.binding !== undefined && { binding: policy.binding }),
  };
}
