import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RequestEvent } from '../lifecycle/handle.js';
import type { ResilientStoreStats } from '../ratelimit/resilientStore.js';
import type { RateLimitStore } from '../ratelimit/store.js';
import { calledStore, decisionLabel, decisionLabels, policyDecisionLabel, wasDecided } from '../ratelimit/result.js';
import { storeStats, type MetricsSink } from './observability.js';
import type { RequestDetails, SubgraphCall } from './requestTracker.js';

export interface PrometheusMetrics extends MetricsSink {
  readonly registry: Registry;
  /** The exposition text and its content type. */
  scrape(): Promise<{ readonly body: string; readonly contentType: string }>;
}

export interface PrometheusOptions {
  readonly store: RateLimitStore;
  /** Labels of `tollgate_info` (environment, store, lifecycle, …). */
  readonly info: Readonly<Record<string, string>>;
  /** Paths kept as they are in the `path` label; others become `other`. */
  readonly paths: readonly string[];
  /** Distinct operation names kept in the `operation` label; the rest become `(other)`. Default 200. */
  readonly maxOperations?: number;
  /** Node's process metrics (`process_*`, `nodejs_*`: CPU, memory, event-loop lag); default true. */
  readonly processMetrics?: boolean;
}

/** Seconds; from well under a millisecond (in-memory decisions) to the 10 s drain deadline. */
const requestBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds; store calls have a deadline of tens of ms (`RATE_LIMIT_TIMEOUT_MS`). */
/** Operation costs: 1 to a million, by powers of about 3. */
const costBuckets = [1, 3, 10, 30, 100, 300, 1000, 3000, 10_000, 30_000, 100_000, 300_000, 1_000_000];
const storeBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

/**
 * Tollgate's Prometheus metrics, with prom-client on a registry of their own (names in
 * docs/operating.md). Fed by the request observer and the runtime plugin; the breaker and the
 * store's failure counters are read from the store at scrape time.
 *
 * @example
 * const metrics = createPrometheusMetrics({ store, info: { environment: 'production' }, paths: ['/graphql'] });
 * const { body, contentType } = await metrics.scrape();
 */
export function createPrometheusMetrics(options: PrometheusOptions): PrometheusMetrics {
  const { store } = options;
  const registry = new Registry();
  const registers = [registry];
  const paths = new Set(options.paths);
  const maxOperations = options.maxOperations ?? 200;
  const operations = new Set<string>();

  new Gauge({
    name: 'tollgate_info',
    help: 'Always 1; the labels describe this instance.',
    labelNames: Object.keys(options.info),
    registers,
  }).set(options.info, 1);

  const requests = new Counter({
    name: 'tollgate_requests_total',
    help: 'Requests answered (preflights excepted), by path, HTTP status and GraphQL operation name ("(none)": nothing was executed).',
    labelNames: ['path', 'status', 'operation'],
    registers,
  });
  const processing = new Histogram({
    name: 'tollgate_processing_time_seconds',
    help: 'Time from receiving a request to its response headers, the X-Processing-Time header.',
    labelNames: ['path'],
    buckets: requestBuckets,
    registers,
  });
  const decisions = new Counter({
    name: 'tollgate_rate_limit_decisions_total',
    help: 'Rate-limit decisions: allowed, limited, blocked, blocked_local_cache, failed_open, fallback_allowed, fallback_limited.',
    labelNames: ['decision'],
    registers,
  });
  // Present from the start, so ratios and alerts on them have a series to read.
  for (const decision of decisionLabels) decisions.inc({ decision }, 0);
  const policyDecisions = new Counter({
    name: 'tollgate_rate_limit_policy_decisions_total',
    help: 'Each policy decided for a request (RATE_LIMIT_POLICIES): by policy, tier whose figures applied, mode (enforce, shadow: never rejects) and decision (allowed, limited, blocked, failed_open).',
    labelNames: ['policy', 'tier', 'mode', 'decision'],
    registers,
  });
  const operationCost = new Histogram({
    name: 'tollgate_operation_cost',
    help: 'Priced operations (MAX_COST or a cost policy): the estimated cost (kind="estimated", before execution) and the actual cost over the data returned (kind="actual", executed operations only).',
    labelNames: ['kind'],
    buckets: costBuckets,
    registers,
  });
  const storeDuration = new Histogram({
    name: 'tollgate_rate_limit_store_duration_seconds',
    help: 'Rate-limit decisions that called the store: time until the decision, by result (ok, failed: let through).',
    labelNames: ['store', 'result'],
    buckets: storeBuckets,
    registers,
  });
  const subgraphDuration = new Histogram({
    name: 'tollgate_subgraph_duration_seconds',
    help: 'Calls from the gateway to a subgraph.',
    labelNames: ['subgraph'],
    buckets: requestBuckets,
    registers,
  });
  const subgraphErrors = new Counter({
    name: 'tollgate_subgraph_errors_total',
    help: 'Subgraph calls that failed or answered with GraphQL errors.',
    labelNames: ['subgraph'],
    registers,
  });

  if (storeStats(store) !== undefined) {
    const states = ['closed', 'open', 'half-open'] as const;
    new Gauge({
      name: 'tollgate_rate_limit_breaker_state',
      help: "The store's circuit breaker: 1 for the current state. open: the store is not called; the per-instance limiter decides.",
      labelNames: ['store', 'state'],
      registers,
      collect() {
        const current = storeStats(store)?.breakerState;
        for (const state of states) this.set({ store: store.kind, state }, state === current ? 1 : 0);
      },
    });
    // Decisions that did not come from the shared store, by why: read from the store's counters.
    const unshared = [
      { reason: 'failed_open', cause: 'timeout', count: (s: ResilientStoreStats) => s.failedOpenTimeout },
      { reason: 'failed_open', cause: 'error', count: (s: ResilientStoreStats) => s.failedOpenError },
      { reason: 'failed_open', cause: 'aborted', count: (s: ResilientStoreStats) => s.failedOpenAborted },
      { reason: 'fallback', cause: 'breaker_open', count: (s: ResilientStoreStats) => s.fallback },
    ] as const;
    new Counter({
      name: 'tollgate_rate_limit_unshared_decisions_total',
      help: 'Rate-limit decisions not made by the shared store: failed_open (let through; cause timeout, error or aborted) and fallback (the per-instance limiter while the breaker is open; cause breaker_open).',
      labelNames: ['store', 'reason', 'cause'],
      registers,
      collect() {
        const stats = storeStats(store);
        if (!stats) return;
        this.reset();
        for (const { reason, cause, count } of unshared) this.inc({ store: store.kind, reason, cause }, count(stats));
      },
    });
    /** A counter read off the store's own counters at scrape time. */
    const storeCounter = (name: string, help: string, count: (s: ResilientStoreStats) => number): void =>
      void new Counter({
        name,
        help,
        labelNames: ['store'],
        registers,
        collect() {
          const stats = storeStats(store);
          if (!stats) return;
          this.reset();
          this.inc({ store: store.kind }, count(stats));
        },
      });
    storeCounter(
      'tollgate_rate_limit_late_replies_total',
      "Store replies used although the deadline's timer had fired first: the gateway's event loop was busy past RATE_LIMIT_TIMEOUT_MS, the store was not slow.",
      (s) => s.lateReplies,
    );
    storeCounter(
      'tollgate_rate_limit_refund_failures_total',
      'Refunds of cost (policies with "refund": true) the store failed to apply within 5 s (off the request’s path): given up, never retried.',
      (s) => s.refundFailures,
    );
    let seen = { error: 0, timeout: 0 };
    new Counter({
      name: 'tollgate_rate_limit_store_failures_total',
      help: 'Store calls that failed (error) or missed RATE_LIMIT_TIMEOUT_MS (timeout).',
      labelNames: ['store', 'reason'],
      registers,
      collect() {
        const stats = storeStats(store);
        if (!stats) return;
        const now = { error: stats.failures - stats.timeouts, timeout: stats.timeouts };
        for (const reason of ['error', 'timeout'] as const) {
          this.inc({ store: store.kind, reason }, Math.max(0, now[reason] - seen[reason]));
        }
        seen = now;
      },
    });
  }

  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  function operationLabel(details: RequestDetails | undefined): string {
    const name = details?.operation;
    if (name === undefined) return '(none)';
    if (operations.has(name)) return name;
    if (operations.size >= maxOperations) return '(other)';
    operations.add(name);
    return name;
  }

  return {
    registry,
    request(event: RequestEvent, details: RequestDetails | undefined) {
      const path = paths.has(event.path) ? event.path : 'other';
      requests.inc({ path, status: String(event.status), operation: operationLabel(details) });
      processing.observe({ path }, event.totalMs / 1000);
      if (event.cost !== undefined) operationCost.observe({ kind: 'estimated' }, event.cost);
      if (event.actualCost !== undefined) operationCost.observe({ kind: 'actual' }, event.actualCost);
      const decision = decisionLabel(event.rateLimit);
      if (decision !== undefined) {
        decisions.inc({ decision });
        if (wasDecided(event.rateLimit)) {
          for (const outcome of event.rateLimit.outcomes) {
            const { name, tier, shadow } = outcome.policy;
            policyDecisions.inc({ policy: name, tier, mode: shadow ? 'shadow' : 'enforce', decision: policyDecisionLabel(outcome) });
          }
        }
        if (calledStore(event.rateLimit)) {
          storeDuration.observe(
            { store: store.kind, result: event.rateLimit.source === 'failed-open' ? 'failed' : 'ok' },
            event.rateLimitMs / 1000,
          );
        }
      }
    },
    subgraphCall(call: SubgraphCall) {
      subgraphDuration.observe({ subgraph: call.subgraph }, call.durationMs / 1000);
      if (call.failed) subgraphErrors.inc({ subgraph: call.subgraph });
      else subgraphErrors.inc({ subgraph: call.subgraph }, 0);
    },
    async scrape() {
      return { body: await registry.metrics(), contentType: registry.contentType };
    },
  };
}
