import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { demoSupergraphFiles } from '../src/demo/write-supergraph.js';
import { isPrivateUrl, privateSubgraphs, subgraphUrls } from '../src/gateway/privateSubgraphs.js';

describe('subgraphs a deployed Worker cannot reach', () => {
  test('loopback, private, link-local and unique-local literals and localhost are private', () => {
    for (const url of [
      'http://127.0.0.1:4101/graphql',
      'http://127.1/graphql',
      'http://0x7f000001/graphql',
      'http://localhost:4000/graphql',
      'http://api.localhost/graphql',
      'http://10.1.2.3/graphql',
      'http://172.16.0.1/graphql',
      'http://192.168.1.10/graphql',
      'http://169.254.169.254/latest/meta-data',
      'http://100.64.0.1/graphql',
      'http://0.0.0.0:4000/graphql',
      'http://[::1]:4000/graphql',
      'http://[fd00::1]/graphql',
      'http://[fe80::1]/graphql',
      'http://[::ffff:127.0.0.1]/graphql',
    ]) {
      assert.equal(isPrivateUrl(url), true, url);
    }
  });

  test('public literals and names are not judged private (a Worker cannot resolve names)', () => {
    for (const url of [
      'https://api.example.com/graphql',
      'http://203.0.113.7/graphql',
      'http://[2001:db8::1]/graphql',
      'https://products.demo.tollgate.invalid/graphql',
      'not a url',
    ]) {
      assert.equal(isPrivateUrl(url), false, url);
    }
  });

  test('the subgraphs of a supergraph are read from its join__Graph enum', () => {
    const sdl = readFileSync(demoSupergraphFiles.loopback.path, 'utf8');
    assert.deepEqual(subgraphUrls(sdl), [
      { name: 'products', url: 'http://127.0.0.1:4101/graphql' },
      { name: 'reviews', url: 'http://127.0.0.1:4102/graphql' },
      { name: 'users', url: 'http://127.0.0.1:4103/graphql' },
    ]);
    assert.equal(privateSubgraphs(sdl).length, 3);
    assert.deepEqual(privateSubgraphs(readFileSync(demoSupergraphFiles.inIsolate.path, 'utf8')), []);
  });
});

test('the committed demo supergraphs are what the demo subgraphs compose to (npm run demo:supergraph)', () => {
  for (const [name, { path, sdl }] of Object.entries(demoSupergraphFiles)) {
    assert.equal(readFileSync(path, 'utf8'), sdl(), `${name}: ${path} is stale; run npm run demo:supergraph`);
  }
});
