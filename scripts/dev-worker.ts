/**
 * `npm run dev:worker`: the Worker in local workerd (`wrangler dev`) against the demo subgraphs,
 * started here on the fixed ports the bundled supergraph.graphql names (4101–4103).
 * Ctrl-C stops both; wrangler runs in its own process group so workerd goes down with it.
 */
import { spawn } from 'node:child_process';
import { demoPorts, startDemoSubgraphs } from '../src/demo/subgraphs.js';

const demo = await startDemoSubgraphs({ ports: demoPorts });
console.error(`demo subgraphs: ${demo.subgraphs.map((s) => `${s.name} ${s.url}`).join(', ')}`);

const wrangler = spawn('npx', ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', process.env['PORT'] ?? '8787', ...process.argv.slice(2)], {
  stdio: 'inherit',
  detached: true,
  env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
});

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  try {
    if (wrangler.pid !== undefined) process.kill(-wrangler.pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
  await demo.close();
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
wrangler.on('exit', (code) => void stop(code ?? 0));
