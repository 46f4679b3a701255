import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDemoSubgraphs, type DemoSubgraphs } from '../src/demo/subgraphs.js';
import { composeSupergraph, CompositionError, fetchSubgraphSdl } from '../src/compose/compose.js';

let demo: DemoSubgraphs;
before(async () => {
  demo = await startDemoSubgraphs();
});
after(async () => {
  await demo.close();
});

function urlOf(name: string): string {
  const subgraph = demo.subgraphs.find((s) => s.name === name);
  assert.ok(subgraph, `subgraph ${name} is running`);
  return subgraph.url;
}

async function post(url: string, query: string, variables?: Record<string, unknown>): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  assert.equal(res.status, 200);
  return res.json();
}

test('starts products, reviews and users on distinct free ports', () => {
  assert.deepEqual(demo.subgraphs.map((s) => s.name).sort(), ['products', 'reviews', 'users']);
  assert.equal(new Set(demo.subgraphs.map((s) => s.url)).size, 3);
  for (const s of demo.subgraphs) assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
});

test('each subgraph answers _service { sdl }', async () => {
  for (const { name, url } of demo.subgraphs) {
    const sdl = await fetchSubgraphSdl(url);
    assert.match(sdl, /@key/, `${name} SDL has @key`);
  }
  assert.match(await fetchSubgraphSdl(urlOf('products')), /topProducts/);
  assert.match(await fetchSubgraphSdl(urlOf('users')), /username/);
  assert.match(await fetchSubgraphSdl(urlOf('reviews')), /type Review/);
});

test('supergraph composes and names every subgraph URL', () => {
  assert.match(demo.supergraphSdl, /join__Graph/);
  for (const { name, url } of demo.subgraphs) {
    assert.ok(demo.supergraphSdl.includes(`@join__graph(name: "${name}", url: "${url}")`), `${name} in supergraph`);
  }
});

test('supergraph also composes from the fetched SDL', async () => {
  const fetched = await Promise.all(demo.subgraphs.map(async (s) => ({ ...s, typeDefs: await fetchSubgraphSdl(s.url) })));
  assert.match(composeSupergraph(fetched), /join__graph/);
});

test('reviews resolves Product entities from representations', async () => {
  const body = await post(
    urlOf('reviews'),
    'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Product { upc reviews { id body author { id } } } } }',
    { r: [{ __typename: 'Product', upc: '1' }] },
  );
  assert.equal(body.errors, undefined);
  const [product] = body.data._entities;
  assert.equal(product.upc, '1');
  assert.ok(product.reviews.length > 0);
  assert.ok(product.reviews.every((r: { id: string; author: { id: string } }) => r.id && r.author.id));
});

test('products and users resolve their own entities', async () => {
  const products = await post(
    urlOf('products'),
    'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Product { upc name price weight } } }',
    { r: [{ __typename: 'Product', upc: '2' }] },
  );
  assert.deepEqual(products.data._entities, [{ upc: '2', name: 'Couch', price: 1299, weight: 1000 }]);
  const users = await post(urlOf('users'), 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { id username } } }', {
    r: [{ __typename: 'User', id: '1' }],
  });
  assert.deepEqual(users.data._entities, [{ id: '1', username: '@ada' }]);
});

test('Query.boom in products fails with its message', async () => {
  const body = await post(urlOf('products'), '{ boom }');
  assert.equal(body.data.boom, null);
  assert.equal(body.errors[0].message, 'boom from products');
});

test('composeSupergraph throws CompositionError listing each error', () => {
  assert.throws(
    () =>
      composeSupergraph([
        { name: 'a', url: 'http://a/graphql', typeDefs: 'type Query { a: String }' },
        { name: 'b', url: 'http://b/graphql', typeDefs: 'type Query { a: Int }' },
      ]),
    (err: unknown) => err instanceof CompositionError && err.errors.length > 0 && err.errors.every((e) => typeof e === 'string'),
  );
});

test('fetchSubgraphSdl names the URL on failure', async () => {
  const bad = urlOf('products').replace('/graphql', '/nope');
  await assert.rejects(fetchSubgraphSdl(bad), (err: Error) => err.message.includes(bad));
});
