import type { GraphiQLOptions } from 'graphql-yoga';

const intro = `# Tollgate in development: GraphiQL on the gateway's own endpoint.
# Run a query with the ▶ button or Ctrl-Enter.
`;

const demoQuery = `${intro}
query TopProducts {
  topProducts {
    name
    price
    reviews {
      body
      author {
        name
      }
    }
  }
}
`;

/**
 * What the page opens with: a query of the demo graph when the demo graph is served, else an
 * empty one (the schema explorer shows what your own graph offers).
 */
export function graphiqlOptions(demoGraph: boolean): GraphiQLOptions {
  return { title: 'Tollgate GraphiQL', defaultQuery: demoGraph ? demoQuery : intro };
}

let rendered: { readonly key: string; readonly html: Promise<string> } | undefined;

/**
 * GraphiQL's page with its scripts and styles inline (`@graphql-yoga/render-graphiql`), so it
 * works without reaching a CDN (the runtime's own page loads them from one). About 9 MB, loaded
 * on first use and kept: a development tool, out of production and out of the Worker bundle.
 * Its signature is the runtime's `renderGraphiQL` option.
 */
export function renderOfflineGraphiQL(options: GraphiQLOptions = graphiqlOptions(true)): Promise<string> {
  const key = JSON.stringify(options);
  if (rendered?.key !== key) {
    rendered = { key, html: import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) => renderGraphiQL(options)) };
  }
  return rendered.html;
}
