// The decide script's precomputed hash, checked offline: EVALSHA (and Upstash, which is sent only
// the hash first) would otherwise miss on every call after an edit to the script.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { decideScript, decideScriptSha1 } from '../../src/ratelimit/redis/decideScript.js';
import { refundScript, refundScriptSha1 } from '../../src/ratelimit/redis/refundScript.js';

test('decideScriptSha1 is the SHA-1 of the decide script as sent', () => {
  assert.equal(createHash('sha1').update(decideScript).digest('hex'), decideScriptSha1);
});

test('refundScriptSha1 is the SHA-1 of the refund script as sent', () => {
  assert.equal(createHash('sha1').update(refundScript).digest('hex'), refundScriptSha1);
});
