import type { GraphiQLOptions } from 'graphql-yoga';

/** What the page opens with. */
export const graphiqlOptions: GraphiQLOptions = {
  title: 'Tollgate GraphiQL',
  defaultQuery: `# Tollgate in development: GraphiQL on the gateway's own endpoint.
# Run a query with the ▶ button or Ctrl-Enter.

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
`,
};

let rendered: { readonly key: string; readonly html: Promise<string> } | undefined;

/**
 * GraphiQL's page with its scripts and styles inline (`@graphql-yoga/render-graphiql`), so it
 * works without reaching a CDN (the runtime's own page loads them from one). About 9 MB, loaded
 * on first use and kept: a development tool, out of production and out of the Worker bundle.
 * Its signature is the runtime's `renderGraphiQL` option.
 */
export function renderOfflineGraphiQL(options: GraphiQLOptions = graphiqlOptions): Promise<string> {
  const key = JSON.stringify(options);
  if (rendered?.key !== key) {
    rendered = { key, html: import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) => renderGraphiQL(options)) };
  }
  return rendered.html;
}
