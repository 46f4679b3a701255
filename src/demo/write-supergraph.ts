/**
 * Writes `supergraph.graphql` at the repo root: the demo supergraph composed (without starting
 * any server) for the fixed demo ports 4101-4103 used by `src/demo/serve.ts`. The Cloudflare
 * Worker bundles this file.
 *
 * Usage: npx tsx src/demo/write-supergraph.ts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { composeSupergraph } from '../compose/compose.js';
import { demoPorts, demoSubgraphDefinitions } from './subgraphs.js';

const supergraphSdl = composeSupergraph(
  demoSubgraphDefinitions.map(({ name, typeDefs }) => ({
    name,
    typeDefs,
    url: `http://127.0.0.1:${demoPorts[name as keyof typeof demoPorts]}/graphql`,
  })),
);
const out = fileURLToPath(new URL('../../supergraph.graphql', import.meta.url));
writeFileSync(out, supergraphSdl);
console.log(`Wrote ${out} (${demoSubgraphDefinitions.length} subgraphs, ${supergraphSdl.length} bytes)`);
