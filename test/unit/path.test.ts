// pathOf reads a plain URL's path off its text: it must agree with the URL parser everywhere,
// since routes (exempt paths, the credential check on /graphql) go by it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pathOf } from '../../src/http/path.js';

test('pathOf agrees with new URL(url).pathname, plain or not', () => {
  const urls = [
    'http://gw.test/graphql',
    'https://gw.test:8443/graphql?query=%7B__typename%7D',
    'http://127.0.0.1:8787/graphql#x',
    'http://[::1]:8787/healthcheck',
    'http://gw.test',
    'http://gw.test/',
    'http://gw.test?x',
    'http://gw.test/a/b/',
    'http://gw.test/a~b_c-d',
    'http://gw.test/./graphql',
    'http://gw.test/x/../graphql',
    'http://gw.test/%67raphql',
    'http://gw.test/graph%2Fql',
    'http://gw.test//graphql',
    'http://gw.test/graphql/..',
    'http://gw.test/GraphQL',
    'http://gw.test/graph ql',
    'http://gw.test/gräph',
    'http://user:pw@gw.test/graphql',
    'http://gw.test\\graphql',
    'http://gw.test/a\\..\\graphql',
    'http://gw.test/.%2e/graphql',
    'http://gw.test/graphql;x',
    'https://gw.test/readiness?',
  ];
  for (const url of urls) assert.equal(pathOf(url), new URL(url).pathname, url);
});
