/**
 * Writes the two composed demo supergraphs (composition only, no server started):
 * - `supergraph.graphql` at the repository root, for the demo subgraphs on 127.0.0.1:4101–4103
 *   (`npm run demo:subgraphs`): the example of a supergraph of your own;
 * - `src/demo/supergraph.in-isolate.graphql`, for the demo subgraphs answered inside the Worker
 *   (`inIsolate.ts`): what the Worker serves with no SUPERGRAPH configured.
 *
 * Usage: npm run demo:supergraph
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { composeSupergraph } from '../compose/compose.js';
import { inIsolateDemoUrl } from './inIsolate.js';
import { demoPorts, demoSubgraphDefinitions, type DemoName } from './schema.js';

/** The demo supergraph with each subgraph at `urlOf(name)`. */
export function demoSupergraph(urlOf: (name: DemoName) => string): string {
  return composeSupergraph(demoSubgraphDefinitions.map(({ name, typeDefs }) => ({ name, typeDefs, url: urlOf(name as DemoName) })));
}

export const demoSupergraphFiles = {
  loopback: {
    path: fileURLToPath(new URL('../../supergraph.graphql', import.meta.url)),
    sdl: () => demoSupergraph((name) => `http://127.0.0.1:${demoPorts[name]}/graphql`),
  },
  inIsolate: {
    path: fileURLToPath(new URL('./supergraph.in-isolate.graphql', import.meta.url)),
    sdl: () => demoSupergraph(inIsolateDemoUrl),
  },
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const { path, sdl } of Object.values(demoSupergraphFiles)) {
    const text = sdl();
    writeFileSync(path, text);
    console.log(`Wrote ${path} (${demoSubgraphDefinitions.length} subgraphs, ${text.length} bytes)`);
  }
}
