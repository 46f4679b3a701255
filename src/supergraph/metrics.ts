import { Counter, Gauge, type Registry } from 'prom-client';
import type { SupergraphState } from './state.js';

/**
 * The supergraph's metrics, read from its state at scrape time: `tollgate_supergraph_info{hash}`
 * (1 for the served version), `tollgate_supergraph_loads_total` (versions loaded, the first
 * included) and `tollgate_supergraph_update_failures_total` (updates refused or failed; the last
 * good graph kept).
 */
export function supergraphMetrics(registry: Registry, state: () => SupergraphState): void {
  const registers = [registry];
  new Gauge({
    name: 'tollgate_supergraph_info',
    help: 'The served supergraph: 1 with its version (a short hash of its SDL) as `hash`.',
    labelNames: ['hash'],
    registers,
    collect() {
      this.reset();
      const version = state().version;
      if (version !== undefined) this.set({ hash: version }, 1);
    },
  });
  new Counter({
    name: 'tollgate_supergraph_loads_total',
    help: 'Supergraph versions loaded since start, the first included.',
    registers,
    collect() {
      this.reset();
      this.inc(state().loads);
    },
  });
  new Counter({
    name: 'tollgate_supergraph_update_failures_total',
    help: 'Supergraph updates that failed or were refused (unreachable, HTTP error, too large, deadline, invalid, refused by the runtime); the last good graph was kept.',
    registers,
    collect() {
      this.reset();
      this.inc(state().failures);
    },
  });
}
