/**
 * Composes a supergraph from running subgraphs.
 *
 * Usage: npm run compose -- --subgraph products=http://127.0.0.1:4001/graphql \
 *          --subgraph reviews=http://127.0.0.1:4002/graphql [--out supergraph.graphql]
 *
 * Exit codes: 0 written, 1 fetch or composition failure, 2 bad arguments.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { composeSupergraph, CompositionError, fetchSubgraphSdl } from './compose.js';

const usage = `Usage: npm run compose -- --subgraph <name>=<url> [--subgraph <name>=<url> ...] [--out <file>]

  --subgraph, -s  a subgraph's name and GraphQL URL (repeatable, at least one)
  --out, -o       output file (default: supergraph.graphql)
  --help, -h      show this help`;

/** Parses argv into subgraph name/url pairs and the output path; throws a message on bad input. */
function parseCli(argv: string[]): { subgraphs: { name: string; url: string }[]; out: string; help: boolean } {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      subgraph: { type: 'string', short: 's', multiple: true },
      out: { type: 'string', short: 'o', default: 'supergraph.graphql' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return { subgraphs: [], out: '', help: true };
  if (positionals.length > 0) throw new Error(`unexpected argument: ${positionals[0]}`);
  const specs = values.subgraph ?? [];
  if (specs.length === 0) throw new Error('at least one --subgraph <name>=<url> is required');
  const subgraphs = specs.map((spec) => {
    const eq = spec.indexOf('=');
    const name = spec.slice(0, eq).trim();
    const url = spec.slice(eq + 1).trim();
    if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) throw new Error(`invalid --subgraph "${spec}": expected <name>=<url>`);
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      throw new Error(`invalid --subgraph "${spec}": "${url}" is not an http(s) URL`);
    }
    return { name, url };
  });
  const names = subgraphs.map((s) => s.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`subgraph "${dup}" given more than once`);
  if (!values.out) throw new Error('--out must not be empty');
  return { subgraphs, out: values.out, help: false };
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parseCli>;
  try {
    args = parseCli(process.argv.slice(2));
  } catch (err) {
    console.error(`error: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if (args.help) {
    console.log(usage);
    return 0;
  }

  let withSdl: { name: string; url: string; typeDefs: string }[];
  try {
    withSdl = await Promise.all(args.subgraphs.map(async (s) => ({ ...s, typeDefs: await fetchSubgraphSdl(s.url) })));
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }

  let supergraphSdl: string;
  try {
    supergraphSdl = composeSupergraph(withSdl);
  } catch (err) {
    if (!(err instanceof CompositionError)) throw err;
    console.error(`error: composition failed with ${err.errors.length} error(s):`);
    for (const message of err.errors) console.error(`  - ${message}`);
    return 1;
  }

  const out = resolve(args.out);
  writeFileSync(out, supergraphSdl);
  console.log(
    `Composed ${withSdl.length} subgraphs (${withSdl.map((s) => s.name).join(', ')}) into ${out} (${supergraphSdl.length} bytes)`,
  );
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
