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
}

const nextTick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

test('the commands of one tick are written corked and sent together at the end of the tick', async () => {
  const coalescer = new WriteCoalescer(16);
  const socket = new Recorder();
  for (let i = 0; i < 3; i++) socket.write(coalescer);
  assert.equal(socket.events.join(''), '+www', 'corked until the tick ends');
  await nextTick();
  assert.equal(socket.events.join(''), '+www-');
  assert.equal(socket.corked, 0);
  socket.write(coalescer);
  await nextTick();
  assert.equal(socket.events.join(''), '+www-+w-', 'a later tick starts its own batch');
});

test('commands issued from microtasks of the same tick join its batch', async () => {
  const coalescer = new WriteCoalescer(16);
  const socket = new Recorder();
  await Promise.all(Array.from({ length: 5 }, (_, i) => Promise.resolve(i).then(() => socket.write(coalescer))));
  await nextTick();
  assert.equal(socket.events.join(''), '+wwwww-');
});

test('every maxBatch commands the batch is sent without waiting for the tick to end', async () => {
  const coalescer = new WriteCoalescer(4);
  const socket = new Recorder();
  for (let i = 0; i < 10; i++) socket.write(coalescer);
  assert.equal(socket.events.join(''), '+wwww-+wwww-+ww', 'four sent before the 5th and the 9th');
  await nextTick();
  assert.equal(socket.events.join(''), '+wwww-+wwww-+ww-');
  assert.equal(socket.corked, 0);
});

test('a replaced socket (a reconnection) is uncorked before the new one is corked', async () => {
  const coalescer = new WriteCoalescer(16);
  const before = new Recorder();
  const after = new Recorder();
  before.write(coalescer);
  after.write(coalescer);
  assert.equal(before.events.join(''), '+w-');
  assert.equal(after.events.join(''), '+w');
  await nextTick();
  assert.equal(after.events.join(''), '+w-');
  assert.equal(before.corked + after.corked, 0);
});
