/**
 * `npm run bench:ab -- A B`: two gateways of the benchmark compared in paired rounds
 * (bench/paired.ts) on the deep query, for trying a change before a full `npm run bench`.
 *
 * A and B are contender ids (bench/gateways/contenders.ts), each optionally `id@DIR`: the same
 * contender from another checkout's build (DIR/dist), e.g. `tollgate-rust@/tmp/before`, so code
 * before and after a change can be compared on one machine in one run; and `id%SETTING,…` the
 * same with environment variables (`NAME=value`) or Node.js flags (`--flag`) added. Each side is
 * started `BENCH_AB_STARTS` times (default 2), fresh processes each time, and every start is
 * measured in `BENCH_PAIRS` pairs (default 10) of `BENCH_WINDOW`-second windows (default 1) at
 * `BENCH_CONNECTIONS` connections (default 10), each window after a `BENCH_RAMP`-second ramp
 * (default 0.5), after both were loaded at once for `BENCH_AB_WARMUP` seconds (default 12).
 * Prints each start's figures and the overall medians; writes nothing.
 *
 * The Worker contenders (bench/worker.ts: `worker`, Tollgate's bundle with wrangler.toml's
 * configuration, and `bare-worker`) are compared the same way on the demo query, in workerd; for
 * them `%NAME=value` changes a binding and `@DIR` serves DIR's dist/worker. Both sides must then be
 * Worker contenders.
 *
 * `--record "what was compared"` also writes the result as a row of BENCHMARKS.md's "Recorded A/B
 * runs" (the row with the same description replaced; a full `npm run bench` keeps the section).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { contenders, type BenchContext, type Contender } from './gateways/contenders.js';
import { buildForBench } from './build.js';
import { measureFreshPairs, quantile, type PairedResult, type Side } from './paired.js';
import { recordedHeading, sectionOf, writeSection } from './sections.js';
import { buildBareWorker, demoQueryBody, isWorkerContender, startDemoSubgraphProcess, workerSide } from './worker.js';
import { serveText } from '../test/support/worker.js';
import { startSubgraphs } from './subgraphProcess.js';
import { deepQueryBody } from './workload/query.js';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const env = process.env;
const args = process.argv.slice(2);
const recordAt = args.indexOf('--record');
const record = recordAt >= 0 ? args.splice(recordAt, 2)[1] : undefined;
const [specA, specB] = args;
if (!specA || !specB || (recordAt >= 0 && !record)) {
  console.error('usage: npm run bench:ab -- <contender>[@checkout] <contender>[@checkout] [--record "what was compared"]');
  process.exit(2);
}

/** Writes `result` as the row `what` of BENCHMARKS.md's recorded A/B runs. */
function recordRow(what: string, result: PairedResult, windowSeconds: number): void {
  const path = join(root, 'BENCHMARKS.md');
  const fx = (r: number) => `${r.toFixed(3)}×`;
  const cpuMs = (side: 'a' | 'b') =>
    quantile(
      (result.sides?.[side] ?? []).map((w) => w.cpu),
      0.5,
    );
  const row =
    `| ${what} | \`${result.a}\` / \`${result.b}\` | ${result.pairs} (${result.starts ?? 1} starts, ${result.connections} connections, ${windowSeconds} s windows) | ` +
    `**${fx(result.median)}** | ${fx(result.q1)}–${fx(result.q3)} | **${fx(result.cpuMedian)}** | ${fx(quantile(result.cpuRatios, 0.25))}–${fx(quantile(result.cpuRatios, 0.75))} | ` +
    `${cpuMs('a').toFixed(2)} / ${cpuMs('b').toFixed(2)} | ${new Date().toISOString().slice(0, 10)} |`;
  const existing = sectionOf(readFileSync(path, 'utf8'), recordedHeading) ?? '';
  const rows = existing
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| what') && !line.startsWith(`| ${what} |`));
  writeSection(
    path,
    recordedHeading,
    [
      recordedHeading,
      '',
      "Single comparisons run with `npm run bench:ab -- A B --record \"what\"` (bench/ab.ts), each in paired rounds as above: fresh starts of both sides, each loaded at once first, then windows that alternate. A side's `@checkout` is another checkout's build of the same contender; `%NAME=value` one setting changed. CPU per request is each side's own process tree's (a Worker's: its workerd process), from /proc at the windows' edges; its ratio is read beside the requests/s ratio because it depends much less on how the shared cores were split. The middle half is that of the per-pair ratios.",
      '',
      '| what | A / B | pairs | median req/s ratio A/B | middle half | median CPU-per-request ratio A/B | middle half | CPU ms/request A / B (medians) | date |',
      '|---|---|---|---:|---:|---:|---:|---:|---|',
      ...rows,
      row,
      '',
    ],
    '## Results',
  );
  console.log(`recorded in BENCHMARKS.md (${recordedHeading})`);
}
const starts = Number(env['BENCH_AB_STARTS'] ?? 2);
const settings = {
  pairs: Number(env['BENCH_PAIRS'] ?? 10),
  connections: Number(env['BENCH_CONNECTIONS'] ?? 10),
  windowSeconds: Number(env['BENCH_WINDOW'] ?? 1),
  rampSeconds: Number(env['BENCH_RAMP'] ?? 0.5),
};

/**
 * The contender of `spec` (`id[@checkout][%setting,…]`), launched from its checkout's build, with
 * each setting either an environment variable (`NAME=value`) or a Node.js flag (`--flag`), e.g.
 * `tollgate-rust%RATE_LIMIT_ENABLED=false` or `bare-rust%--max-semi-space-size=64`.
 */
function side(spec: string): { contender: Contender; root: string } {
  const [head, settingList] = spec.split('%') as [string, string | undefined];
  const [id, dir] = head.split('@') as [string, string | undefined];
  const contender = contenders.find((c) => c.id === id);
  if (!contender) throw new Error(`unknown contender ${id}; one of ${contenders.map((c) => c.id).join(', ')}`);
  const extras = settingList?.split(',').filter(Boolean) ?? [];
  const nodeFlags = extras.filter((s) => s.startsWith('--')).join(' ');
  const vars: Record<string, string> = {};
  for (const setting of extras.filter((s) => !s.startsWith('--'))) {
    const at = setting.indexOf('=');
    if (at < 1) throw new Error(`${spec}: a setting is NAME=value or --node-flag, not ${setting}`);
    vars[setting.slice(0, at)] = setting.slice(at + 1);
  }
  const launch: Contender['launch'] = (ctx, port) => {
    const launched = contender.launch(ctx, port);
    return { ...launched, env: { ...launched.env, ...vars, ...(nodeFlags ? { NODE_OPTIONS: nodeFlags } : {}) } };
  };
  return { contender: { ...contender, id: spec, launch }, root: dir ? resolve(dir) : root };
}

const isWorker = (spec: string) => isWorkerContender(spec.split('%')[0]!.split('@')[0]!);
if (isWorker(specA) || isWorker(specB)) {
  if (!isWorker(specA) || !isWorker(specB)) throw new Error('a Worker contender is compared with another Worker contender');
  await compareWorkers(specA, specB);
  process.exit(0);
}

/** Two Worker contenders, paired, on the demo subgraphs in their own process (bench/worker.ts). */
async function compareWorkers(first: string, second: string): Promise<void> {
  buildForBench(root, { worker: true, log: (message) => console.error(message) });
  if (env['BENCH_SKIP_BUILD'] !== '1') buildBareWorker(root);
  const subgraphs = await startDemoSubgraphProcess(root);
  const served = await serveText(subgraphs.supergraphSdl);
  const workerSpec = (spec: string): Side => {
    const [head, settingList] = spec.split('%') as [string, string | undefined];
    const [id, dir] = head.split('@') as [string, string | undefined];
    if (!isWorkerContender(id)) throw new Error(`unknown Worker contender ${id}`);
    const bindings = Object.fromEntries(
      (settingList?.split(',').filter(Boolean) ?? []).map((setting) => [
        setting.slice(0, setting.indexOf('=')),
        setting.slice(setting.indexOf('=') + 1),
      ]),
    );
    return workerSide(id, {
      root: dir ? resolve(dir) : root,
      supergraphUrl: served.url,
      supergraphSdl: subgraphs.supergraphSdl,
      bindings,
      id: spec,
      rateLimitMax: 1_000_000_000,
    });
  };
  try {
    const result = await measureFreshPairs(
      workerSpec(first),
      workerSpec(second),
      subgraphs.child.pid!,
      { ...settings, windowSeconds: Number(env['BENCH_WINDOW'] ?? 2), starts, warmupSeconds: Number(env['BENCH_AB_WARMUP'] ?? 8) },
      demoQueryBody,
      (one, i) =>
        console.log(
          `start ${i + 1}: ${first} / ${second}  req/s ratio ${one.median.toFixed(3)}  CPU/request ${one.cpuMedian.toFixed(3)}  pairs ${one.ratios.map((r) => r.toFixed(2)).join(' ')}`,
        ),
    );
    const cpu = (side: 'a' | 'b') => {
      const values = (result.sides?.[side] ?? []).map((w) => w.cpu).sort((x, y) => x - y);
      return values[Math.floor(values.length / 2)] ?? NaN;
    };
    console.log(
      `all ${result.pairs} pairs, ${settings.connections} connections: req/s ratio ${result.median.toFixed(3)} (IQR ${result.q1.toFixed(3)}–${result.q3.toFixed(3)})  ` +
        `CPU/request ${result.cpuMedian.toFixed(3)} (IQR of the CPU ratios ${quantile(result.cpuRatios, 0.25).toFixed(3)}–${quantile(result.cpuRatios, 0.75).toFixed(3)}; workerd ${cpu('a').toFixed(2)} vs ${cpu('b').toFixed(2)} ms/request)`,
    );
    if (record) recordRow(record, result, Number(env['BENCH_WINDOW'] ?? 2));
  } finally {
    await served.close();
    subgraphs.close();
  }
}

const a = side(specA);
const b = side(specB);
// This checkout is built first; another checkout (`id@DIR`) runs the build it has.
buildForBench(root, { worker: false, log: (message) => console.error(message) });
const runDir = mkdtempSync(join(tmpdir(), 'tollgate-ab-'));
const supergraphPath = join(runDir, 'supergraph.graphql');
const noDedupePath = join(runDir, 'supergraph.no-dedupe.graphql');
const subgraphs = await startSubgraphs(root, supergraphPath, noDedupePath, env['SUBGRAPH_MEMO'] !== '0');
const ctx = (checkout: string): BenchContext => ({
  root: checkout,
  supergraphPath: noDedupePath,
  plainSupergraphPath: supergraphPath,
  runDir,
  redisUrl: env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
  redisKeyPrefix: `tollgate-ab:${Date.now().toString(36)}:`,
  rateLimitMax: 1_000_000_000,
  clusterWorkers: 2,
});

try {
  const result = await measureFreshPairs(
    { contender: a.contender, ctx: ctx(a.root) },
    { contender: b.contender, ctx: ctx(b.root) },
    subgraphs.child.pid!,
    { ...settings, starts, warmupSeconds: Number(env['BENCH_AB_WARMUP'] ?? 12) },
    deepQueryBody,
    (one, i) =>
      console.log(
        `start ${i + 1}: ${specA} / ${specB}  req/s ratio ${one.median.toFixed(3)} (IQR ${one.q1.toFixed(3)}–${one.q3.toFixed(3)})  ` +
          `CPU/request ${one.cpuMedian.toFixed(3)}  pairs ${one.ratios.map((r) => r.toFixed(2)).join(' ')}`,
      ),
  );
  console.log(
    `all ${result.pairs} pairs, ${settings.connections} connections: req/s ratio ${result.median.toFixed(3)} ` +
      `(IQR ${result.q1.toFixed(3)}–${result.q3.toFixed(3)})  CPU/request ${result.cpuMedian.toFixed(3)} ` +
      `(IQR of the CPU ratios ${quantile(result.cpuRatios, 0.25).toFixed(3)}–${quantile(result.cpuRatios, 0.75).toFixed(3)})`,
  );
  if (record) recordRow(record, result, settings.windowSeconds);
} finally {
  subgraphs.close();
  rmSync(runDir, { recursive: true, force: true });
}
