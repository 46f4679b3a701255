import { parse } from 'graphql';

/**
 * Why a text is not a supergraph Tollgate can serve (it does not parse, or it is not a composed
 * federation supergraph), or undefined when it is one. An HTML error page, an empty body or a
 * subgraph's own SDL all end here; what the runtime itself refuses is judged when it loads it.
 */
export function supergraphProblem(sdl: string): string | undefined {
  if (sdl.trim() === '') return 'the supergraph is empty';
  try {
    parse(sdl, { noLocation: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `it does not parse as GraphQL SDL: ${reason}`;
  }
  if (!sdl.includes('join__Graph')) return 'it is not a composed federation supergraph (no join__Graph found)';
  return undefined;
}
