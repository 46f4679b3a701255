/** Supergraph composition (The Guild's federation-composition) and subgraph SDL fetching. */
import { parse } from 'graphql';
import { composeServices } from '@theguild/federation-composition';

/** One subgraph to compose: its name, its routing URL and its SDL. */
export interface ComposeInput {
  name: string;
  url: string;
  typeDefs: string;
}

/** Composition failed; `errors` holds one message per composition error. */
export class CompositionError extends Error {
  readonly errors: string[];
  constructor(errors: string[]) {
    super(`Supergraph composition failed with ${errors.length} error(s):\n${errors.map((e) => `  - ${e}`).join('\n')}`);
    this.name = 'CompositionError';
    this.errors = errors;
  }
}

/**
 * Composes subgraphs into a supergraph SDL (with `join__graph` entries pointing at each `url`).
 * Throws `CompositionError` when the SDL does not parse or the subgraphs do not compose.
 */
export function composeSupergraph(subgraphs: ComposeInput[]): string {
  if (subgraphs.length === 0) throw new CompositionError(['no subgraphs given']);
  const parseErrors: string[] = [];
  const services = subgraphs.map(({ name, url, typeDefs }) => {
    try {
      return { name, url, typeDefs: parse(typeDefs) };
    } catch (err) {
      parseErrors.push(`[${name}] ${(err as Error).message}`);
      return undefined;
    }
  });
  if (parseErrors.length > 0) throw new CompositionError(parseErrors);

  const result = composeServices(services.filter((s) => s !== undefined));
  if (result.errors) {
    throw new CompositionError(result.errors.length ? result.errors.map((e) => e.message) : ['unknown composition error']);
  }
  return result.supergraphSdl;
}

/**
 * Fetches a subgraph's SDL with `{ _service { sdl } }`. Throws an Error naming `url` on network
 * failure, timeout (default 10 s), non-2xx status, non-JSON body or GraphQL errors.
 */
export async function fetchSubgraphSdl(url: string, options: { timeoutMs?: number } = {}): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const fail = (why: string): Error => new Error(`Could not fetch SDL from ${url}: ${why}`);
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: '{ _service { sdl } }' }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (err) {
    const e = err as Error & { cause?: { message?: string; code?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') throw fail(`timed out after ${timeoutMs} ms`);
    throw fail(e.cause?.code ?? e.cause?.message ?? e.message);
  }
  if (!response.ok) throw fail(`HTTP ${response.status} ${response.statusText}`.trim());

  let body: { data?: { _service?: { sdl?: unknown } } | null; errors?: { message?: string }[] };
  try {
    body = JSON.parse(text);
  } catch {
    throw fail(`response is not JSON: ${text.slice(0, 200)}`);
  }
  if (body.errors?.length) throw fail(`GraphQL errors: ${body.errors.map((e) => e.message).join('; ')}`);
  const sdl = body.data?._service?.sdl;
  if (typeof sdl !== 'string') throw fail('response has no data._service.sdl (is it a federation subgraph?)');
  return sdl;
}
