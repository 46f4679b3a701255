/**
 * Child-process entry of the benchmark's subgraphs: starts them, writes the composed supergraph
 * to the path given as the first argument and the same without upstream deduplication
 * (bench/workload/transport.ts) to the second, then answers the parent over IPC:
 * `{ type: 'ready', subgraphs }` once, and `{ type: 'counts', counts }` for each `'counts'` asked
 * (`'reset'` zeroes them). Exits when the parent disconnects. `SUBGRAPH_MEMO=0` turns the memo off.
 */
import { writeFileSync } from 'node:fs';
import { startWorkloadSubgraphs } from './subgraphs.js';
import { withoutUpstreamDedupe } from './transport.js';

const [path, noDedupePath] = process.argv.slice(2);
if (!path || !noDedupePath || !process.send) throw new Error('usage: forked with IPC; arguments: two supergraph output paths');
const workload = await startWorkloadSubgraphs({ memo: process.env['SUBGRAPH_MEMO'] !== '0' });
writeFileSync(path, workload.supergraphSdl);
writeFileSync(noDedupePath, withoutUpstreamDedupe(workload.supergraphSdl, workload.subgraphs));
process.send({ type: 'ready', subgraphs: workload.subgraphs });
process.on('message', (message) => {
  if (message === 'reset') workload.resetCounts();
  if (message === 'counts' || message === 'reset') process.send!({ type: 'counts', counts: workload.counts() });
});
process.on('disconnect', () => void workload.close().then(() => process.exit(0)));
