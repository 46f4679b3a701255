/**
 * Where a Worker's CPU time goes in workerd (bench/workerProfile.ts), printed: by package or
 * Tollgate's own file, with the builtins each called, and the hottest functions.
 *
 * Run: npm run build:worker && npx tsx bench/worker-profile.ts [worker|bare-worker|both|"spec spec"] [seconds]
 * A spec as for `bench:ab` with a Worker contender: `worker%LOG_LEVEL=warn` changes a binding,
 * `worker@/path/to/checkout` serves that checkout's dist/worker.
 */
import { buildForBench } from './build.js';
import { buildBareWorker, startDemoSubgraphProcess } from './worker.js';
import { profileWorker } from './workerProfile.js';
import { serveText } from '../test/support/worker.js';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const [which = 'both', secondsArg = '10'] = process.argv.slice(2);
buildForBench(root, { worker: true, log: (message) => console.error(message) });
if (process.env['BENCH_SKIP_BUILD'] !== '1') buildBareWorker(root);
const subgraphs = await startDemoSubgraphProcess(root);
const served = await serveText(subgraphs.supergraphSdl);
try {
  for (const spec of which === 'both' ? ['worker', 'bare-worker'] : which.split(' ')) {
    const profile = await profileWorker(spec, Number(secondsArg), root, { url: served.url, sdl: subgraphs.supergraphSdl });
    const ms = (value: number) => value.toFixed(3).padStart(7);
    console.log(
      `\n${spec}: ${profile.requests} requests in ${profile.seconds} s, ${profile.busyMsPerRequest.toFixed(3)} ms sampled per request`,
    );
    for (const { part, ms: value } of profile.byPart.slice(0, 30)) console.log(`  ${ms(value)} ms  ${part}`);
    const own = profile.byPart.filter(({ part }) => part.startsWith('src/'));
    console.log(
      `  Tollgate's own code (src/): ${own.reduce((sum, p) => sum + p.ms, 0).toFixed(3)} ms: ${own.map((p) => `${p.part} ${p.ms.toFixed(3)}`).join(', ')}`,
    );
    console.log('  hottest functions (self):');
    for (const { name, ms: value } of profile.functions.slice(0, 40)) console.log(`  ${ms(value)} ms  ${name}`);
  }
} finally {
  await served.close();
  subgraphs.close();
}
