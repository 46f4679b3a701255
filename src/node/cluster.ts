/**
 * `node dist/node/cluster.js`: one Tollgate process per core, sharing one port through
 * node:cluster. Each worker is `main.js` with the same environment; the primary only forks,
 * restarts and stops them. Rate limits are shared only through a shared store: with `REDIS_URL`,
 * `REDIS_CLUSTER_NODES` (or Upstash) every worker decides against the same counters, each worker
 * connecting before it listens; with the in-memory store each worker counts alone, so a client
 * gets up to workers × the limit (warned at start).
 *
 * `CLUSTER_WORKERS` sets the number of workers (default: the machine's available parallelism).
 * SIGTERM/SIGINT are passed to every worker, which drains as a single process does; the primary
 * exits when they have. A worker that dies is replaced; one that keeps dying at start-up
 * (3 times within 10 s each) stops the whole cluster with exit code 1.
 *
 * @example CLUSTER_WORKERS=2 REDIS_URL=redis://10.0.0.5:6379 SUPERGRAPH=./supergraph.graphql node dist/node/cluster.js
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ConfigError, parseConfig } from '../config.js';
import { createLogger } from '../log.js';
import { withFileVariables } from './fileVariables.js';

const quickDeathMs = 10_000;
const maxQuickDeaths = 3;

function workerCount(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return availableParallelism();
  const count = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(count) || count < 1 || count > 1024) {
    throw new ConfigError('CLUSTER_WORKERS', value, 'a whole number from 1 to 1024');
  }
  return count;
}

function main(): void {
  // Checked once here, so a bad value stops start-up with one message rather than N crash loops.
  const config = parseConfig(withFileVariables(process.env), 'node');
  const count = workerCount(process.env['CLUSTER_WORKERS']);
  const log = createLogger(config.logLevel);
  const sharedStore = config.redisUrl !== undefined || config.redisClusterNodes !== undefined || config.upstashUrl !== undefined;
  if (config.rateLimitEnabled && !sharedStore && count > 1) {
    log.warn('cluster: in-memory rate-limit store in each worker; set REDIS_URL or REDIS_CLUSTER_NODES to share limits', {
      workers: count,
      effectiveLimitPerClient: config.policy.limit * count,
    });
  }

  cluster.setupPrimary({ exec: fileURLToPath(new URL('./main.js', import.meta.url)) });
  const startedAt = new Map<Worker, number>();
  let quickDeaths = 0;
  let stopping = false;
  let exitCode = 0;

  const fork = (): void => {
    const worker = cluster.fork();
    startedAt.set(worker, Date.now());
  };

  cluster.on('listening', (worker, address) => {
    log.info('cluster: worker listening', { pid: worker.process.pid, port: address.port });
  });
  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker) ?? 0);
    startedAt.delete(worker);
    if (stopping) {
      if (code !== 0 && code !== null) exitCode = code;
      if (startedAt.size === 0) {
        log.info('cluster: stopped');
        process.exit(exitCode);
      }
      return;
    }
    log.error('cluster: worker died', { pid: worker.process.pid, code, signal, livedMs: lived });
    quickDeaths = lived < quickDeathMs ? quickDeaths + 1 : 0;
    if (quickDeaths >= maxQuickDeaths) {
      log.error('cluster: workers keep dying at start-up; stopping', { quickDeaths });
      stop('SIGTERM', 1);
      return;
    }
    fork();
  });

  const stop = (signal: NodeJS.Signals, code = 0): void => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    log.info('cluster: shutdown', { signal, workers: startedAt.size });
    if (startedAt.size === 0) process.exit(exitCode);
    // A worker already signalled by the terminal (same process group) ignores the second one.
    for (const worker of startedAt.keys()) worker.process.kill(signal);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  log.info('cluster: starting', { workers: count });
  for (let i = 0; i < count; i++) fork();
}

try {
  if (!cluster.isPrimary) throw new Error('cluster.js is the primary; workers run main.js');
  main();
} catch (error) {
  console.error(error instanceof ConfigError ? `tollgate: ${error.message}` : `tollgate: failed to start: ${String(error)}`);
  process.exit(1);
}
