/**
 * Stand-ins for the hosted supergraph registries, speaking their protocols over HTTP on loopback:
 * Hive CDN (an artifact behind `X-Hive-CDN-Key`, with `ETag`) and Apollo GraphOS Uplink (the
 * `routerConfig` query). The Node tests and the workerd tests read from the same ones.
 */
import { createServer, type Server } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';
import { supergraphVersion } from '../../src/supergraph/version.js';
import { listenLoopback } from './supergraphs.js';

/** What the Hive CDN stand-in answers besides the artifact: an outage, or a delayed answer. */
export type HiveCdnFault = { readonly kind: 'status'; readonly status: number } | { readonly kind: 'delay'; readonly ms: number };

/**
 * A stand-in for Hive CDN as its clients see it: `GET <endpoint>/supergraph` with the
 * `X-Hive-CDN-Key` header (403 without the right key), the artifact with an `ETag`, and 304 for
 * a matching `If-None-Match`. `fault` makes it answer an HTTP error, or the artifact late.
 */
export async function startHiveCdn(key: string, initial: string) {
  let artifact = initial;
  let fault: HiveCdnFault | undefined;
  const requests: { path: string; key: string | undefined; ifNoneMatch: string | undefined; status: number; at: number }[] = [];
  const server: Server = createServer((req, res) => {
    const record = {
      path: req.url ?? '',
      key: req.headers['x-hive-cdn-key'] as string | undefined,
      ifNoneMatch: req.headers['if-none-match'],
      status: 0,
      at: Date.now(),
    };
    requests.push(record);
    const answer = (status: number, headers: Record<string, string>, body?: string) => {
      if (res.destroyed) return;
      record.status = status;
      res.writeHead(status, headers);
      res.end(body);
    };
    if (req.method !== 'GET' || req.url !== '/artifacts/v1/target-1/supergraph')
      return answer(404, { 'content-type': 'text/plain' }, 'Not Found');
    if (record.key !== key) return answer(403, { 'content-type': 'text/plain' }, 'Invalid CDN key');
    if (fault?.kind === 'status') return answer(fault.status, { 'content-type': 'text/plain' }, 'CDN unavailable');
    const text = artifact;
    const etag = `"${supergraphVersion(text)}"`;
    const send = () => (record.ifNoneMatch === etag ? answer(304, { etag }) : answer(200, { 'content-type': 'text/plain', etag }, text));
    if (fault?.kind === 'delay') return void setTimeout(send, fault.ms);
    send();
  });
  const { origin, close } = await listenLoopback(server);
  return {
    endpoint: `${origin}/artifacts/v1/target-1`,
    requests,
    set: (text: string) => void (artifact = text),
    fault: (next: HiveCdnFault | undefined) => void (fault = next),
    close,
  };
}

/**
 * A stand-in for Apollo GraphOS Uplink: its `routerConfig` query and the `RouterConfigResponse`
 * union as Uplink's schema declares them (so the gateway's query is validated against that
 * shape), answering `FetchError` for a wrong key or an unknown graph ref, `Unchanged` while
 * `ifAfterId` is the current id, else the supergraph with a new id; each with `minDelaySeconds`
 * (1 unless told otherwise). Records each call with the time it arrived.
 */
export async function startUplink(apiKey: string, graphRef: string, initial: string, options: { minDelaySeconds?: number } = {}) {
  let current = { id: 'v1', sdl: initial };
  const minDelaySeconds = options.minDelaySeconds ?? 1;
  const calls: { ref: string; ifAfterId: string | null; answer: string; at: number }[] = [];
  const schema = createSchema({
    typeDefs: /* GraphQL */ `
      enum FetchErrorCode { AUTHENTICATION_FAILED ACCESS_DENIED UNKNOWN_REF RETRY_LATER NOT_IMPLEMENTED_ON_THIS_INSTANCE }
      enum MessageLevel { ERROR WARN INFO }
      type Message { level: MessageLevel! body: String! }
      type RouterConfigResult { id: ID! supergraphSDL: String! messages: [Message!]! minDelaySeconds: Float! }
      type Unchanged { id: ID! minDelaySeconds: Float! }
      type FetchError { code: FetchErrorCode! message: String! minDelaySeconds: Float! }
      union RouterConfigResponse = RouterConfigResult | Unchanged | FetchError
      type Query { routerConfig(ref: String!, apiKey: String!, ifAfterId: ID): RouterConfigResponse! }
    `,
    resolvers: {
      RouterConfigResponse: { __resolveType: (value: { __typename: string }) => value.__typename },
      Query: {
        routerConfig: (_: unknown, args: { ref: string; apiKey: string; ifAfterId?: string | null }) => {
          const at = Date.now();
          const answer = ((): Record<string, unknown> => {
            if (args.apiKey !== apiKey)
              return { __typename: 'FetchError', code: 'AUTHENTICATION_FAILED', message: 'invalid API key', minDelaySeconds: 60 };
            if (args.ref !== graphRef)
              return { __typename: 'FetchError', code: 'UNKNOWN_REF', message: `unknown ref "${args.ref}"`, minDelaySeconds: 60 };
            if (args.ifAfterId === current.id) return { __typename: 'Unchanged', id: current.id, minDelaySeconds };
            return { __typename: 'RouterConfigResult', id: current.id, supergraphSDL: current.sdl, messages: [], minDelaySeconds };
          })();
          calls.push({ ref: args.ref, ifAfterId: args.ifAfterId ?? null, answer: String(answer['__typename']), at });
          return answer;
        },
      },
    },
  });
  const server: Server = createServer(
    createYoga({ schema: schema as never, graphqlEndpoint: '/', logging: false, graphiql: false, landingPage: false }),
  );
  const { origin, close } = await listenLoopback(server);
  let version = 1;
  return {
    url: `${origin}/`,
    calls,
    publish: (sdl: string) => void (current = { id: `v${++version}`, sdl }),
    close,
  };
}
