#!/usr/bin/env node
// Runs every test file under test/ and src/ (`*.test.ts`) with Node's test runner and tsx.
// The files are listed here (rather than a glob) so that extra arguments can filter them:
// `node scripts/run-tests.mjs redis` runs only files whose path contains "redis".
//
// Two groups, one after the other. Most files run two at a time: much of a file's time is spent
// waiting (real windows and penalties, polls, processes and workerd starting), which on two cores
// another file's work fills. Then the files in `alone` run one at a time with nothing beside them:
// their assertions measure time while they load the machine themselves, or they start many
// processes under a time limit. Each group prints the runner's own report; the closing lines add
// both groups up, and the exit code is non-zero when either group failed.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

/** Files that run one at a time, after the others, each with the reason. */
const alone = new Map([
  ['test/config.test.ts', 'starts five gateway processes at once, each refusal within 20 s'],
  ['test/node-gateway.test.ts', '50 requests in a row must each see at least 50 of the window’s 60 s left'],
  ['test/ratelimit-load.test.ts', 'bursts saturate both cores; every decision must still meet the 50 ms deadline'],
  ['test/ratelimit-worker.test.ts', 'bursts saturate workerd; every decision must still meet the 50 ms deadline'],
  ['test/upstream-deadline.test.ts', 'a healthy subgraph must answer within a 300 ms deadline while 60 calls are planned'],
]);

/**
 * The longest files of the concurrent group, started first so that the two lanes end together
 * (the rest follow in path order). A hint only: a file missing here still runs.
 */
const longestFirst = [
  'test/supergraph-reload.test.ts',
  'test/ratelimit-binding.test.ts',
  'test/supergraph-graphos.test.ts',
  'test/worker-supergraph-registries.test.ts',
  'test/worker.test.ts',
  'test/redis-gateway.test.ts',
  'test/policies-gateway.test.ts',
  'test/graphiql.test.ts',
  'test/worker-supergraph-reload.test.ts',
  'test/metrics.test.ts',
];

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.name.endsWith('.test.ts')) yield relative(root, path);
  }
}

const files = [...walk(join(root, 'test')), ...walk(join(root, 'src'))]
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const rank = (file) => {
  const i = longestFirst.indexOf(file);
  return i === -1 ? longestFirst.length : i;
};
const groups = [
  { name: 'two at a time', concurrency: 2, files: files.filter((f) => !alone.has(f)).sort((a, b) => rank(a) - rank(b)) },
  { name: 'one at a time', concurrency: 1, files: files.filter((f) => alone.has(f)) },
].filter((group) => group.files.length > 0);

const counters = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'];

/**
 * Runs one group: the spec report on stdout as usual, and a TAP copy in a file whose closing
 * `# tests N` … lines give the group's counts. Resolves with the counts and whether it passed.
 */
function runGroup(group, dir) {
  const tapFile = join(dir, `${group.concurrency}.tap`);
  const args = [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${group.concurrency}`,
    '--test-timeout=180000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...group.files,
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
    });
    child.once('exit', (code, signal) => {
      let tap = '';
      try {
        tap = readFileSync(tapFile, 'utf8');
      } catch {
        // No report: counted as a failure below.
      }
      const counts = {};
      for (const name of counters) {
        const match = new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap);
        if (match) counts[name] = Number(match[1]);
      }
      const complete = counters.every((name) => name in counts);
      resolve({ counts, passed: code === 0 && signal === null && complete, code, signal });
    });
  });
}

const started = performance.now();
const dir = mkdtempSync(join(tmpdir(), 'tollgate-tests-'));
const results = [];
try {
  for (const group of groups) {
    console.log(`ℹ ${group.files.length} test file${group.files.length === 1 ? '' : 's'} ${group.name}`);
    results.push({ group, ...(await runGroup(group, dir)) });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const failed = results.filter((r) => !r.passed);
console.log('');
console.log(`ℹ all ${files.length} test files: ${results.map((r) => `${r.group.files.length} ${r.group.name}`).join(', then ')}`);
for (const r of failed) {
  const how = r.signal ? `signal ${r.signal}` : `exit code ${r.code}`;
  console.log(`✖ the files ${r.group.name} failed (${how}): see their report above`);
}
for (const name of counters) console.log(`ℹ ${name} ${results.reduce((sum, r) => sum + (r.counts[name] ?? 0), 0)}`);
console.log(`ℹ duration_ms ${(performance.now() - started).toFixed(6)}`);
process.exit(failed.length > 0 ? 1 : 0);
