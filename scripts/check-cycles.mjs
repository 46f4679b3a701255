#!/usr/bin/env node
// Fails when the relative imports of src/, bench/, test/ or scripts/ form a cycle, type-only
// imports included, between files or between the layers of src/ (its directories and top files): layers point one way (configuration below what it configures, the
// lifecycle above the stores). Reads imports with TypeScript's own pre-processor; no build.
// `node scripts/check-cycles.mjs` prints each cycle found and exits 1, else prints nothing.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const root = new URL('..', import.meta.url).pathname;

function* sources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.') || entry.name === 'results') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (/\.(ts|mts|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) yield path;
  }
}

/** The file a relative specifier names: `./x.js` is `./x.ts` in the sources. */
function resolveImport(from, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && !candidate.endsWith('.graphql')) return candidate;
  }
  return undefined;
}

const files = ['src', 'bench', 'test', 'scripts'].flatMap((d) => [...sources(join(root, d))]);
const graph = new Map();
for (const file of files) {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  graph.set(file, [...new Set(importedFiles.map((i) => resolveImport(file, i.fileName)).filter(Boolean))]);
}

/** Tarjan's strongly connected components of `graph`: each one of more than one node is a cycle. */
function cyclesOf(graph) {
  let index = 0;
  const stack = [];
  const state = new Map();
  const cycles = [];
  function visit(file) {
    const s = { index, low: index, onStack: true };
    index++;
    state.set(file, s);
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      const t = state.get(next);
      if (t === undefined) {
        visit(next);
        s.low = Math.min(s.low, state.get(next).low);
      } else if (t.onStack) s.low = Math.min(s.low, t.index);
    }
    if (s.low === s.index) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        state.get(member).onStack = false;
        component.push(member);
      } while (member !== file);
      if (component.length > 1 || (graph.get(file) ?? []).includes(file)) cycles.push(component);
    }
  }
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

// The layers of src/: each directory (src/gateway, src/ratelimit, …) and each file at its top
// (config.ts, tollgate.ts, log.ts). A layer may import from another only if that one never
// imports back, even through a third.
const src = join(root, 'src');
const layerOf = (file) => relative(src, file).split('/')[0].replace(/\.ts$/, '');
const layers = new Map();
for (const [file, imports] of graph) {
  if (!file.startsWith(`${src}/`)) continue;
  const from = layerOf(file);
  const targets = layers.get(from) ?? new Set();
  for (const target of imports) if (target.startsWith(`${src}/`) && layerOf(target) !== from) targets.add(layerOf(target));
  layers.set(from, targets);
}
const layerGraph = new Map([...layers].map(([layer, targets]) => [layer, [...targets]]));

const fileCycles = cyclesOf(graph);
const layerCycles = cyclesOf(layerGraph);
for (const cycle of fileCycles)
  console.error(
    `import cycle: ${cycle
      .map((f) => relative(root, f))
      .sort()
      .join(' ↔ ')}`,
  );
for (const cycle of layerCycles) {
  const members = new Set(cycle);
  const edges = [];
  for (const [file, imports] of graph) {
    if (!file.startsWith(`${src}/`) || !members.has(layerOf(file))) continue;
    for (const target of imports) {
      if (target.startsWith(`${src}/`) && members.has(layerOf(target)) && layerOf(target) !== layerOf(file)) {
        edges.push(`${relative(src, file)} → ${relative(src, target)}`);
      }
    }
  }
  console.error(`layer cycle: ${cycle.sort().join(' ↔ ')}\n  ${edges.join('\n  ')}`);
}
process.exit(fileCycles.length + layerCycles.length === 0 ? 0 : 1);
