/**
 * The cost workload: `RATE_LIMIT_POLICIES` of the gateway that prices every request and spends
 * its estimate, with limits no run reaches, so every request is priced and decided and none is
 * rejected.
 */

/** Far above any run's requests, and refilled faster than any run spends. */
export const costBenchLimit = 1_000_000_000;

/**
 * The default policy as Tollgate has it without configuration (a fixed window with a penalty on
 * the identity, which is the address) and a Shopify-style bucket in cost on the same key, so
 * both are decided in one store call.
 */
export const costPoliciesJson = JSON.stringify([
  { name: 'default', key: 'identity', limit: costBenchLimit, window: 60, penalty: 40 },
  { name: 'points', key: 'identity', unit: 'cost', algorithm: 'token-bucket', limit: costBenchLimit, refillPerSecond: costBenchLimit },
]);
