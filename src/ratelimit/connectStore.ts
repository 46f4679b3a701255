import type { Logger } from '../log.js';
import type { RateLimitStore } from './store.js';

/**
 * Connects the store before the gateway serves (RateLimitStore.connect), waiting at most
 * `waitMs` (`RATE_LIMIT_STARTUP_WAIT_MS`). A store that cannot be reached in that time is
 * logged, and the gateway starts anyway: its requests are let through (failed open) until the
 * store answers. Resolves with whether the store answered.
 *
 * @example if (config.rateLimitEnabled) await connectStore(store, config.rateLimitStartupWaitMs, log);
 */
export async function connectStore(store: RateLimitStore, waitMs: number, log: Logger): Promise<boolean> {
  if (!store.connect) return true;
  const started = performance.now();
  try {
    await store.connect(AbortSignal.timeout(waitMs));
    log.info('rate-limit store connected', { store: store.kind, ms: Math.round(performance.now() - started) });
    return true;
  } catch (error) {
    log.warn('rate-limit store not reachable at start; requests are let through until it answers', {
      store: store.kind,
      waitedMs: Math.round(performance.now() - started),
      error,
    });
    return false;
  }
}
