/**
 * `npm run dev:worker`: the Worker in local workerd (`wrangler dev`). With no SUPERGRAPH it serves
 * the demo graph inside the isolate. Tollgate's variables set in this shell (SUPERGRAPH,
 * RATE_LIMIT_*, REDIS_URL, …) are passed to the Worker over wrangler.toml's `[vars]`, as
 * `.dev.vars` would be; ALLOW_PRIVATE_SUBGRAPHS defaults to true here, so a SUPERGRAPH whose
 * subgraphs run on this machine is served. Ctrl-C stops it; wrangler runs in its own process
 * group so workerd goes down with it.
 *
 * @example SUPERGRAPH=http://127.0.0.1:8000/supergraph.graphql npm run dev:worker
 */
import { spawn } from 'node:child_process';

/** Prefixes and names of the variables Tollgate reads (README, "Configuration reference"). */
const tollgateVariable =
  /^(ENVIRONMENT|SUPERGRAPH|ALLOW_PRIVATE_SUBGRAPHS|REDIS_\w+|UPSTASH_\w+|RATE_LIMIT_\w+|CORS_ORIGINS|TRUST_PROXY|GATEWAY_LIFECYCLE|QUERY_PLANNER|LOG_\w+|MAX_\w+|BATCH_LIMIT|INTROSPECTION|UPSTREAM_TIMEOUT_MS|FIELD_SUGGESTIONS|METRICS_\w+)$/;

const vars: Record<string, string> = { ALLOW_PRIVATE_SUBGRAPHS: 'true' };
for (const [name, value] of Object.entries(process.env)) {
  if (value !== undefined && tollgateVariable.test(name)) vars[name] = value;
}
const varFlags = Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}:${value}`]);
console.error(`dev:worker: passing ${Object.keys(vars).join(', ')}`);

const wrangler = spawn(
  'npx',
  ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', process.env['PORT'] ?? '8787', ...varFlags, ...process.argv.slice(2)],
  {
    stdio: 'inherit',
    detached: true,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
  },
);

let stopping = false;
function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  try {
    if (wrangler.pid !== undefined) process.kill(-wrangler.pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
  process.exit(code);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
wrangler.on('exit', (code) => stop(code ?? 0));
