// The log writer: plain lines are written without the replacer, and every value the replacer
// changes (errors, at any depth, and bigints) is still changed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/log.js';

function lineOf(fields: Record<string, unknown>): Record<string, unknown> {
  const lines: string[] = [];
  createLogger('info', (line) => lines.push(line)).info('m', fields);
  const { time, ...rest } = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(typeof time, 'string');
  return rest;
}

test('log lines: plain fields as they are; errors and bigints made safe at any depth', () => {
  assert.deepEqual(lineOf({ a: 1, b: 'x', c: null, d: undefined, e: { f: 2, g: [1, 'y'] }, h: [true] }), {
    level: 'info',
    msg: 'm',
    a: 1,
    b: 'x',
    c: null,
    e: { f: 2, g: [1, 'y'] },
    h: [true],
  });
  assert.deepEqual(lineOf({ error: new TypeError('boom') }), { level: 'info', msg: 'm', error: { name: 'TypeError', message: 'boom' } });
  assert.deepEqual(lineOf({ nested: { error: new Error('inner') } }), {
    level: 'info',
    msg: 'm',
    nested: { error: { name: 'Error', message: 'inner' } },
  });
  assert.deepEqual(lineOf({ deep: { a: { error: new Error('deeper') } } }), {
    level: 'info',
    msg: 'm',
    deep: { a: { error: { name: 'Error', message: 'deeper' } } },
  });
  assert.deepEqual(lineOf({ list: [new Error('in a list')] }), {
    level: 'info',
    msg: 'm',
    list: [{ name: 'Error', message: 'in a list' }],
  });
  assert.deepEqual(lineOf({ big: 12n, inner: { big: 3n } }), { level: 'info', msg: 'm', big: '12', inner: { big: '3' } });
});
