import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clientKey, unknownClient } from '../src/identity/clientKey.js';
import { parseTrustProxy, type TrustProxy } from '../src/identity/trustProxy.js';

const trust = (value: string): TrustProxy => {
  const parsed = parseTrustProxy(value);
  assert.ok(parsed, value);
  return parsed;
};
const key = (headers: Record<string, string>, peer: string | undefined, trustValue: string) =>
  clientKey(new Headers(headers), peer, trust(trustValue));

describe('client key', () => {
  test('without trusted proxies the socket address is the key, whatever the headers say', () => {
    const headers = {
      'x-forwarded-for': '203.0.113.1',
      'x-real-ip': '203.0.113.2',
      forwarded: 'for=203.0.113.3',
      'cf-connecting-ip': '203.0.113.4',
    };
    assert.equal(key(headers, '192.0.2.1', 'none'), '192.0.2.1');
    assert.equal(key({}, '192.0.2.1', 'none'), '192.0.2.1');
  });

  test('an untrusted peer cannot change the key even when TRUST_PROXY names other proxies', () => {
    assert.equal(key({ 'x-forwarded-for': '203.0.113.1' }, '192.0.2.1', '10.0.0.0/8'), '192.0.2.1');
  });

  test('trusted CIDRs: X-Forwarded-For is read from the right, past trusted hops', () => {
    const t = '10.0.0.0/8, 127.0.0.1';
    assert.equal(key({ 'x-forwarded-for': '203.0.113.9' }, '10.1.1.1', t), '203.0.113.9');
    // The client wrote the leftmost value itself; it is not believed.
    assert.equal(key({ 'x-forwarded-for': '1.2.3.4, 203.0.113.9' }, '10.1.1.1', t), '203.0.113.9');
    // Two trusted proxies in the chain are skipped.
    assert.equal(key({ 'x-forwarded-for': '1.2.3.4, 203.0.113.9, 10.2.2.2' }, '127.0.0.1', t), '203.0.113.9');
    // Only trusted addresses: the leftmost is the best there is.
    assert.equal(key({ 'x-forwarded-for': '10.3.3.3, 10.2.2.2' }, '10.1.1.1', t), '10.3.3.3');
  });

  test('a hop count trusts exactly that many proxies', () => {
    const headers = { 'x-forwarded-for': '1.2.3.4, 203.0.113.9, 198.51.100.7' };
    assert.equal(key(headers, '192.0.2.1', '1'), '198.51.100.7');
    assert.equal(key(headers, '192.0.2.1', '2'), '203.0.113.9');
    assert.equal(key(headers, '192.0.2.1', '0'), '192.0.2.1');
  });

  test('an unparsable forwarded entry stops the walk at the last vouched-for address', () => {
    assert.equal(key({ 'x-forwarded-for': '203.0.113.9, garbage' }, '10.1.1.1', '10.0.0.0/8'), '10.1.1.1');
  });

  test('Forwarded and X-Real-IP are read when X-Forwarded-For is absent', () => {
    assert.equal(key({ forwarded: 'for=203.0.113.5;proto=https' }, '10.1.1.1', 'uniquelocal'), '203.0.113.5');
    assert.equal(key({ forwarded: 'for="[2001:db8:1:2::7]:443"' }, '10.1.1.1', 'uniquelocal'), '2001:db8:1:2::/64');
    assert.equal(key({ 'x-real-ip': '203.0.113.6' }, '10.1.1.1', 'uniquelocal'), '203.0.113.6');
  });

  test('IPv6 addresses are grouped by /64; IPv4-mapped IPv6 becomes IPv4', () => {
    assert.equal(key({}, '2001:db8:aaaa:bbbb:1:2:3:4', 'none'), '2001:db8:aaaa:bbbb::/64');
    assert.equal(key({}, '2001:db8:aaaa:bbbb:ffff::9', 'none'), '2001:db8:aaaa:bbbb::/64');
    assert.notEqual(key({}, '2001:db8:aaaa:bbbc::1', 'none'), key({}, '2001:db8:aaaa:bbbb::1', 'none'));
    assert.equal(key({}, '::ffff:192.0.2.44', 'none'), '192.0.2.44');
  });

  test('cloudflare: CF-Connecting-IP is the key; without it the socket address or "unknown"', () => {
    assert.equal(key({ 'cf-connecting-ip': '203.0.113.4', 'x-forwarded-for': '1.1.1.1' }, undefined, 'cloudflare'), '203.0.113.4');
    assert.equal(key({ 'cf-connecting-ip': '2001:db8::1' }, undefined, 'cloudflare'), '2001:db8:0:0::/64');
    assert.equal(key({}, '192.0.2.1', 'cloudflare'), '192.0.2.1');
    assert.equal(key({ 'cf-connecting-ip': 'nonsense' }, undefined, 'cloudflare'), unknownClient);
  });

  test('TRUST_PROXY values that are not valid are refused', () => {
    for (const bad of ['yes please', '10.0.0.0/33', '999', 'not-an-ip', '', '10.0.0.0/', '10.0.0.0/1e1', '10.0.0.0/ 8']) {
      assert.equal(parseTrustProxy(bad), undefined, bad);
    }
  });

  test('TRUST_PROXY ranges: an IPv4-mapped IPv6 range matches the IPv4 clients it names', () => {
    const trust = parseTrustProxy('::ffff:10.0.0.0/104');
    assert.equal(trust?.kind, 'cidrs');
    assert.equal(key({ 'x-forwarded-for': '198.51.100.7' }, '10.1.2.3', '::ffff:10.0.0.0/104'), '198.51.100.7');
    assert.equal(key({ 'x-forwarded-for': '198.51.100.7' }, '11.1.2.3', '::ffff:10.0.0.0/104'), '11.1.2.3');
  });
});
