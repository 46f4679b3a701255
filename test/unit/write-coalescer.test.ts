import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WriteCoalescer, type Corkable } from '../../src/ratelimit/redis/writeCoalescer.js';

/** A socket that records what it was told: `+` cork, `-` uncork, `w` a command written. */
class Recorder implements Corkable {
  readonly events: string[] = [];
  corked = 0;
  cork(): void {
    this.corked++;
    this.events.push('+');
  }
  uncork(): void {
    this.corked--;
    this.events.push('-');
  }
  write(coalescer: WriteCoalescer): void {
    coalescer.beforeWrite(this);
    this.events.push('w');
  }
  get log(): string {
    return this.events.join('');
  }
}

/** After every microtask queued so far (and those they queue) has run. */
const afterMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('a lone command is written at once, never corked', async () => {
  const coalescer = new WriteCoalescer(16);
  const socket = new Recorder();
  socket.write(coalescer);
  assert.equal(socket.log, 'w');
  await afterMicrotasks();
  assert.equal(socket.log, 'w');
});

test('the first command of a burst goes out at once; those issued with it are held and sent together', async () => {
  const coalescer = new WriteCoalescer(16);
  const socket = new Recorder();
  for (let i = 0; i < 3; i++) socket.write(coalescer);
  assert.equal(socket.log, 'w+ww', 'the second and third held');
  await afterMicrotasks();
  assert.equal(socket.log, 'w+ww-');
  assert.equal(socket.corked, 0);
  socket.write(coalescer);
  await afterMicrotasks();
  assert.equal(socket.log, 'w+ww-w', 'a later burst starts with a command written at once');
});

test('commands issued by continuations of the same depth (replies of one read) join one burst', async () => {
  const coalescer = new WriteCoalescer(16);
  const socket = new Recorder();
  const continuation = async (i: number): Promise<void> => {
    await Promise.resolve(i);
    await null;
    socket.write(coalescer);
  };
  await Promise.all(Array.from({ length: 5 }, (_, i) => continuation(i)));
  await afterMicrotasks();
  assert.equal(socket.log, 'w+wwww-');
});

test('a command issued after the burst has ended is a burst of its own', async () => {
  const coalescer = new WriteCoalescer(16);
  const socket = new Recorder();
  socket.write(coalescer);
  await null; // the burst's end was queued before this continuation
  socket.write(coalescer);
  await afterMicrotasks();
  assert.equal(socket.log, 'ww', 'each written at once');
});

test('once maxBatch commands are held they are sent before the next is added', async () => {
  const coalescer = new WriteCoalescer(4);
  const socket = new Recorder();
  for (let i = 0; i < 10; i++) socket.write(coalescer);
  assert.equal(socket.log, 'w+wwww-+wwww-+w');
  await afterMicrotasks();
  assert.equal(socket.log, 'w+wwww-+wwww-+w-');
  assert.equal(socket.corked, 0);
});

test('a replaced socket (a reconnection) is uncorked before the new one is written to', async () => {
  const coalescer = new WriteCoalescer(16);
  const before = new Recorder();
  const after = new Recorder();
  before.write(coalescer);
  before.write(coalescer);
  after.write(coalescer);
  assert.equal(before.log, 'w+w-');
  assert.equal(after.log, 'w');
  after.write(coalescer);
  await afterMicrotasks();
  assert.equal(after.log, 'w+w-');
  assert.equal(before.corked + after.corked, 0);
});
