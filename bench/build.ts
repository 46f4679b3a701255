/**
 * The builds a benchmark runs on: tsc (dist/), the bench entries (dist/bench/) and, when asked
 * and older than src/, the Worker bundle. `BENCH_SKIP_BUILD=1` skips them all.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function run(root: string, command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status})`);
}

/** Newest modification time under `dir`. */
function newest(dir: string): number {
  let at = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    at = Math.max(at, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return at;
}

export function buildForBench(root: string, options: { readonly worker: boolean; readonly log: (message: string) => void }): void {
  if (process.env['BENCH_SKIP_BUILD'] === '1') return;
  options.log('building: tsc (dist/), the bench entries (dist/bench/)');
  run(root, 'npm', ['run', '--silent', 'build']);
  run(root, process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'bench/tsconfig.json']);
  const bundle = join(root, 'dist/worker/index.js');
  if (options.worker && (!existsSync(bundle) || statSync(bundle).mtimeMs < newest(join(root, 'src')))) {
    options.log('building: the Worker bundle (npm run build:worker)');
    run(root, 'npm', ['run', '--silent', 'build:worker']);
  }
}
