import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { startDemoSubgraphs, type DemoSubgraphs } from '../src/demo/subgraphs.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Runs the CLI asynchronously (the subgraphs live in this process, so no spawnSync). */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/compose/cli.ts', ...args], { cwd: root, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    );
  });
}

/** A one-field subgraph on a free port. */
async function tinySubgraph(
  typeDefs: string,
  resolvers: Record<string, Record<string, () => unknown>>,
): Promise<{ url: string; server: Server }> {
  const yoga = createYoga({
    schema: buildSubgraphSchema({ typeDefs: parse(typeDefs), resolvers }),
    logging: false,
    graphiql: false,
    landingPage: false,
  });
  const server = createServer(yoga);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, server };
}

let demo: DemoSubgraphs;
let tmp: string;
const extraServers: Server[] = [];

before(async () => {
  demo = await startDemoSubgraphs();
  tmp = await mkdtemp(join(tmpdir(), 'tollgate-compose-'));
});
after(async () => {
  await demo.close();
  for (const server of extraServers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await rm(tmp, { recursive: true, force: true });
});

test('composes the running demo subgraphs into --out', async () => {
  const out = join(tmp, 'supergraph.graphql');
  const { code, stdout, stderr } = await runCli([...demo.subgraphs.flatMap((s) => ['--subgraph', `${s.name}=${s.url}`]), '--out', out]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /Composed 3 subgraphs/);
  const sdl = await readFile(out, 'utf8');
  assert.match(sdl, /join__graph/);
  for (const { url } of demo.subgraphs) assert.ok(sdl.includes(url));
});

test('conflicting subgraphs: exit 1 with the composition errors on stderr', async () => {
  const a = await tinySubgraph('type Query { a: String }', { Query: { a: () => 'a' } });
  const b = await tinySubgraph('type Query { a: Int }', { Query: { a: () => 1 } });
  extraServers.push(a.server, b.server);
  const out = join(tmp, 'conflict.graphql');
  const { code, stderr } = await runCli(['--subgraph', `a=${a.url}`, '--subgraph', `b=${b.url}`, '--out', out]);
  assert.equal(code, 1, stderr);
  assert.match(stderr, /composition failed/);
  assert.match(stderr, /Query\.a/);
  await assert.rejects(readFile(out, 'utf8'), { code: 'ENOENT' });
});

test('bad arguments: usage and exit 2', async () => {
  for (const args of [[], ['--subgraph', 'no-equals-sign'], ['--subgraph', 'x=not a url'], ['--bogus']]) {
    const { code, stderr } = await runCli(args);
    assert.equal(code, 2, `args ${JSON.stringify(args)}: ${stderr}`);
    assert.match(stderr, /Usage:/);
  }
});

test('unreachable subgraph: exit 1 naming the URL', async () => {
  // Take a free port, then close it so nothing listens there.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const url = `http://127.0.0.1:${port}/graphql`;
  const { code, stderr } = await runCli(['--subgraph', `gone=${url}`, '--out', join(tmp, 'gone.graphql')]);
  assert.equal(code, 1, stderr);
  assert.ok(stderr.includes(url), stderr);
});
