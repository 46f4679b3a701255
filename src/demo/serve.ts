/**
 * Runs the demo subgraphs on the fixed ports 4101 (products), 4102 (reviews) and 4103 (users)
 * until SIGINT/SIGTERM. The subgraphs `supergraph.graphql` names.
 *
 * Usage: npm run demo:subgraphs
 */
import { demoPorts, startDemoSubgraphs } from './subgraphs.js';

const demo = await startDemoSubgraphs({ ports: demoPorts });
for (const { name, url } of demo.subgraphs) console.log(`demo subgraph ${name} at ${url}`);

let stopping = false;
const stop = (signal: NodeJS.Signals): void => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping demo subgraphs`);
  demo.close().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
