import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { parseConfig } from '../src/config.js';
import { rustPlannerAvailable, type QueryPlanner } from '../src/gateway/planner.js';
import { silentLogger } from '../src/log.js';
import { createTollgate, type Tollgate } from '../src/tollgate.js';
import { twoColorGraphs } from './support/supergraphs.js';

/**
 * Superseded supergraphs are released: the gateway swaps between the two colour graphs many
 * times, with requests on every version (their subgraph calls under Node's shared deadline), and
 * afterwards only the version it serves is still alive. What is counted is versions, not heap
 * bytes: a WeakRef to each version's schema, and how many still point at one after full
 * collections, in a child process (node --expose-gc). In the runtime a superseded version keeps
 * the next one alive (its reload error's stack holds it), so one version kept by anything keeps
 * every later one: the count is about one, or all of them.
 */

const swaps = 30;

interface Count {
  readonly served: number;
  readonly alive: number;
}

/** `{ color }` through the handler, in process. */
async function color(tollgate: Tollgate): Promise<string> {
  const request = new Request('http://tollgate.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ color }' }),
  });
  const response = await tollgate.handler(request, { clientAddress: '127.0.0.1', waitUntil: () => {} });
  const body = (await response.json()) as { data?: { color?: string } };
  return body.data?.color ?? `status ${response.status}`;
}

/** Child process: `swaps` swaps with `planner`, then how many of the versions served are alive. */
async function countAlive(planner: QueryPlanner): Promise<Count> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const graphs = await twoColorGraphs();
  let sdl = graphs.a;
  const config = parseConfig({ RATE_LIMIT_ENABLED: 'false', QUERY_PLANNER: planner }, 'node');
  const tollgate = createTollgate(config, { supergraphSource: { read: async () => ({ kind: 'sdl', sdl }) }, log: silentLogger });
  const versions: WeakRef<object>[] = [];
  try {
    for (let n = 0; n <= swaps; n++) {
      const expected = n % 2 === 0 ? 'a' : 'b';
      sdl = expected === 'a' ? graphs.a : graphs.b;
      await tollgate.supergraph.refresh();
      for (let i = 0; i < 3; i++) assert.equal(await color(tollgate), expected);
      versions.push(new WeakRef(await tollgate.gateway.acquire().runtime.getSchema()));
    }
    // A WeakRef's target is kept until the current job ends: collect from later tasks.
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      gc();
    }
    return { served: versions.length, alive: versions.filter((version) => version.deref() !== undefined).length };
  } finally {
    await tollgate.close();
    await graphs.close();
  }
}

const child = process.env['TOLLGATE_RELEASE_CHILD'];
if (child) {
  process.stdout.write(`${JSON.stringify(await countAlive(child as QueryPlanner))}\n`);
} else {
  const rust = await rustPlannerAvailable();

  function run(planner: QueryPlanner): Count {
    const result = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, TOLLGATE_RELEASE_CHILD: planner },
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(result.status, 0, result.stderr);
    return JSON.parse(result.stdout.trim().split('\n').pop()!) as Count;
  }

  describe('superseded supergraphs are released', () => {
    for (const planner of ['js', 'rust'] as const) {
      test(`${planner} planner: after ${swaps} swaps with requests, at most the served version and the one before it are alive`, {
        skip: planner === 'rust' && !rust ? 'the Rust planner does not load here' : false,
      }, (t) => {
        const { served, alive } = run(planner);
        t.diagnostic(`${alive} of ${served} versions alive`);
        assert.equal(served, swaps + 1);
        assert.ok(alive <= 2, `${alive} of ${served} versions still alive`);
      });
    }
  });
}
