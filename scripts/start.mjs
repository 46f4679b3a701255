#!/usr/bin/env node
// `npm start` / `npm run start:cluster`: compiles the gateway only when a source changed since the
// last build that went through here, then runs it in this process. `npm run serve` runs the built
// gateway without looking at the sources.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = process.argv[2] === 'cluster' ? 'dist/node/cluster.js' : 'dist/node/main.js';
const stamp = join(root, 'dist', '.build-stamp');

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'].map((p) => join(root, p));
const built = existsSync(stamp) && existsSync(join(root, entry)) ? statSync(stamp).mtimeMs : -1;
if (Math.max(...inputs.map(newestMtime)) > built) {
  console.error('tollgate: sources changed since the last build; compiling (tsc)…');
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  if (tsc.status !== 0) {
    console.error('tollgate: the build failed; see the errors above');
    process.exit(tsc.status ?? 1);
  }
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}
await import(pathToFileURL(join(root, entry)).href);
