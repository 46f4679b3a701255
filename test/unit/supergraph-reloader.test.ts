import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger } from '../../src/log.js';
import type { SourceRead } from '../../src/supergraph/fetchUrl.js';
import { createSupergraphReloader } from '../../src/supergraph/reloader.js';
import {
  initialSupergraphState,
  readinessOf,
  supergraphFailed,
  supergraphLoaded,
  supergraphReport,
  supergraphUnchanged,
} from '../../src/supergraph/state.js';
import { supergraphVersion } from '../../src/supergraph/version.js';

const sdl = (name: string) => `enum join__Graph { ${name.toUpperCase()} } type Query { ${name}: Int }`;

function harness(reads: (() => Promise<SourceRead>)[], refuse: (text: string) => boolean = () => false) {
  const lines: Record<string, unknown>[] = [];
  const swapped: string[] = [];
  let clock = Date.UTC(2030, 0, 1);
  let readCount = 0;
  const reloader = createSupergraphReloader({
    read: () => {
      const next = reads[Math.min(readCount++, reads.length - 1)]!;
      return next();
    },
    check: (text) => (text.includes('join__Graph') ? undefined : 'no join__Graph'),
    swap: async (text) => {
      if (refuse(text)) throw new Error('refused by the runtime');
      swapped.push(text);
    },
    log: createLogger('debug', (line) => lines.push(JSON.parse(line) as Record<string, unknown>)),
    now: () => (clock += 1000),
  });
  return { reloader, lines, swapped, reads: () => readCount };
}

describe('the supergraph state (pure)', () => {
  test('loaded, unchanged, failed: versions, times, counts and the report', () => {
    let state = supergraphLoaded(initialSupergraphState, 'abc', 1000);
    assert.deepEqual(readinessOf(state, true), { httpStatus: 200, status: 'ready' });
    state = supergraphUnchanged(state, 2000);
    const failed = supergraphFailed(state, 'HTTP 500', 3000);
    assert.equal(failed.log, true);
    const again = supergraphFailed(failed.state, 'HTTP 500', 4000);
    assert.equal(again.log, false, 'the same failure is not logged twice');
    assert.equal(again.state.failures, 2);
    assert.deepEqual(supergraphReport(again.state), {
      version: 'abc',
      loadedAt: '1970-01-01T00:00:01.000Z',
      lastUpdate: { ok: false, at: '1970-01-01T00:00:04.000Z', error: 'HTTP 500' },
    });
    assert.deepEqual(readinessOf(again.state, true), { httpStatus: 200, status: 'degraded' });
    assert.deepEqual(readinessOf(initialSupergraphState, true), { httpStatus: 503, status: 'degraded' });
    assert.deepEqual(readinessOf(supergraphUnchanged(again.state, 5000), false), { httpStatus: 200, status: 'degraded' });
    assert.equal(supergraphFailed(supergraphUnchanged(again.state, 5000), 'HTTP 500', 6000).log, true, 'logged again after a recovery');
  });

  test('the version: 12 hex digits, equal for equal texts, different for different ones', () => {
    assert.match(supergraphVersion(sdl('a')), /^[0-9a-f]{12}$/);
    assert.equal(supergraphVersion(sdl('a')), supergraphVersion(sdl('a')));
    assert.notEqual(supergraphVersion(sdl('a')), supergraphVersion(sdl('b')));
  });
});

describe('the supergraph reloader', () => {
  test('an update that arrives while another is being loaded: one read at a time, and one more after it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { reloader, swapped, reads } = harness([
      async () => {
        await gate;
        return { kind: 'sdl', sdl: sdl('a') };
      },
      async () => ({ kind: 'sdl', sdl: sdl('b') }),
    ]);
    const first = reloader.refresh();
    const second = reloader.refresh();
    const third = reloader.refresh();
    assert.equal(reads(), 1, 'the second read waits for the first');
    release();
    await Promise.all([first, second, third]);
    assert.equal(reads(), 2, 'the calls made meanwhile are one more read');
    assert.deepEqual(swapped, [sdl('a'), sdl('b')]);
    assert.equal(reloader.state().version, supergraphVersion(sdl('b')));
  });

  test('an update that flips back and forth every poll: each change is served, in order', async () => {
    const texts = [sdl('a'), sdl('b'), sdl('a'), sdl('b'), sdl('a')];
    const { reloader, swapped } = harness(texts.map((text) => async () => ({ kind: 'sdl', sdl: text })));
    for (let i = 0; i < texts.length; i++) await reloader.refresh();
    assert.deepEqual(swapped, texts);
    assert.equal(reloader.state().loads, 5);
    assert.equal(reloader.state().version, supergraphVersion(sdl('a')));
  });

  test('a refused supergraph is not offered again; failures counted, logged once; the same text again is unchanged', async () => {
    const { reloader, swapped, lines } = harness(
      [
        async () => ({ kind: 'sdl', sdl: sdl('a') }),
        async () => ({ kind: 'sdl', sdl: sdl('bad') }),
        async () => ({ kind: 'sdl', sdl: sdl('bad') }),
        async () => ({ kind: 'sdl', sdl: sdl('a') }),
      ],
      (text) => text === sdl('bad'),
    );
    for (let i = 0; i < 4; i++) await reloader.refresh();
    assert.deepEqual(swapped, [sdl('a')]);
    const state = reloader.state();
    assert.equal(state.failures, 2);
    assert.equal(state.version, supergraphVersion(sdl('a')));
    assert.deepEqual(state.lastUpdate?.ok, true);
    const warned = lines.filter((l) => String(l['msg']).startsWith('supergraph update failed'));
    assert.equal(warned.length, 1);
    assert.equal(warned[0]!['error'], 'the gateway runtime refused it: refused by the runtime');
  });

  test('a read that throws keeps the graph and reports the error; nothing is served before a first good one', async () => {
    const { reloader } = harness([
      async () => {
        throw new Error('fetch failed (ECONNREFUSED)');
      },
      async () => ({ kind: 'sdl', sdl: 'type Query { a: Int }' }),
    ]);
    await reloader.refresh();
    assert.equal(reloader.state().version, undefined);
    assert.equal(reloader.state().lastUpdate?.error, 'fetch failed (ECONNREFUSED)');
    await reloader.refresh();
    assert.equal(reloader.state().version, undefined);
    assert.equal(reloader.state().lastUpdate?.error, 'no join__Graph');
  });
});

describe("the source's own pause (GraphOS Uplink's minDelaySeconds)", () => {
  test('no read before the delay the last read asked for; a read again after it', async () => {
    let clock = Date.UTC(2030, 0, 1);
    let reads = 0;
    const reloader = createSupergraphReloader({
      read: async () => {
        reads++;
        return reads === 1 ? { kind: 'sdl', sdl: sdl('a'), etag: 'v1', minDelayMs: 30_000 } : { kind: 'unchanged', minDelayMs: 30_000 };
      },
      check: () => undefined,
      swap: async () => {},
      log: createLogger('error', () => {}),
      now: () => clock,
    });
    await reloader.refresh();
    assert.equal(reads, 1);
    clock += 10_000;
    await reloader.refresh();
    clock += 19_999;
    await reloader.refresh();
    assert.equal(reads, 1, 'asked not to be read for 30 s');
    assert.equal(reloader.state().version, supergraphVersion(sdl('a')));
    clock += 1;
    await reloader.refresh();
    assert.equal(reads, 2, 'read again once the delay has passed');
    clock += 5_000;
    await reloader.refresh();
    assert.equal(reads, 2, 'the unchanged answer asked for its own delay');
  });
});

describe('a run that never settles (its request cancelled in workerd)', () => {
  test('taken as lost after lostAfterMs without progress: the next refresh reads again; the lost run, if it resumes, changes nothing', async () => {
    let clock = Date.UTC(2030, 0, 1);
    let release!: (read: SourceRead) => void;
    const lost = new Promise<SourceRead>((resolve) => (release = resolve));
    let reads = 0;
    const swapped: string[] = [];
    const reloader = createSupergraphReloader({
      read: () => (++reads === 1 ? lost : Promise.resolve({ kind: 'sdl', sdl: sdl('b') })),
      check: () => undefined,
      swap: async (text) => void swapped.push(text),
      log: createLogger('error', () => {}),
      now: () => clock,
      lostAfterMs: 5_000,
    });
    void reloader.refresh();
    assert.equal(reloader.reading(), true);
    clock += 4_999;
    void reloader.refresh();
    assert.equal(reads, 1, 'still within its bound: one read at a time');
    assert.equal(reloader.reading(), true);
    clock += 1;
    assert.equal(reloader.reading(), false, 'no progress for lostAfterMs');
    await reloader.refresh();
    assert.equal(reads, 2);
    assert.equal(reloader.state().version, supergraphVersion(sdl('b')));
    assert.equal(reloader.reading(), false);
    const after = reloader.state();
    release({ kind: 'sdl', sdl: sdl('a') });
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(swapped, [sdl('b')], 'the lost run does not swap what it read late');
    assert.equal(reloader.state(), after, 'nor change the state');
  });

  test('without lostAfterMs a run is never taken as lost', async () => {
    let clock = 0;
    let reads = 0;
    const reloader = createSupergraphReloader({
      read: () => {
        reads++;
        return new Promise<SourceRead>(() => {});
      },
      check: () => undefined,
      swap: async () => {},
      log: createLogger('error', () => {}),
      now: () => clock,
    });
    void reloader.refresh();
    clock += 10 * 60_000;
    assert.equal(reloader.reading(), true);
    void reloader.refresh();
    assert.equal(reads, 1);
  });
});
