/**
 * The benchmark's four subgraphs in one child process (bench/workload/serve.ts), as the harness
 * and the A/B runner drive them: started once, asked over IPC for subgraph call counts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface Subgraphs {
  readonly child: ChildProcess;
  /** Subgraph calls per subgraph since the last reset (`reset`: zero them after reading). */
  counts(reset?: boolean): Promise<Record<string, number>>;
  close(): void;
}

/**
 * Starts the subgraphs; once ready, the composed supergraph is at `supergraphPath` and the same
 * without upstream deduplication (bench/workload/transport.ts) at `noDedupePath`.
 */
export async function startSubgraphs(root: string, supergraphPath: string, noDedupePath: string, memo: boolean): Promise<Subgraphs> {
  const child = fork(join(root, 'dist/bench/bench/workload/serve.js'), [supergraphPath, noDedupePath], {
    env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'production', SUBGRAPH_MEMO: memo ? '1' : '0' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`subgraphs exited with ${code}`)));
  });
  return {
    child,
    counts: (reset = false) =>
      new Promise((resolve) => {
        child.once('message', (message: { counts: Record<string, number> }) => resolve(message.counts));
        child.send(reset ? 'reset' : 'counts');
      }),
    close: () => child.disconnect(),
  };
}
