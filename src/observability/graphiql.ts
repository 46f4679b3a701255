import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
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

/**
 * Runtime plugin: where the runtime answers a browser's `GET <endpoint>` with its GraphiQL page,
 * answers the offline page instead (same status and headers). Only for development, where the
 * runtime's `graphiql` is on; in production the runtime renders no page and this does nothing.
 *
 * (Once `createRuntime` takes `renderGraphiQL`, pass `renderOfflineGraphiQL` there instead.)
 */
export function useOfflineGraphiQL(endpoint = '/graphql'): GatewayPlugin {
  return {
    async onResponse({ request, response, setResponse }) {
      if (request.method !== 'GET' || !response.headers.get('content-type')?.startsWith('text/html')) return;
      const path = new URL(request.url).pathname;
      if (path !== endpoint && path !== `${endpoint}/`) return;
      const headers = new Headers(response.headers);
      headers.delete('content-length');
      headers.set('content-type', 'text/html; charset=utf-8');
      setResponse(new Response(await renderOfflineGraphiQL(), { status: response.status, headers }));
    },
  };
}
