/**
 * The version of a supergraph: a short hash of its SDL text (12 hex digits), the same on Node and
 * Workers (no crypto API needed, synchronous). Not a security measure: it names a version in logs,
 * metrics and `/readiness`, and tells an unchanged supergraph from a changed one.
 *
 * @example supergraphVersion('type Query { a: Int }') // '3c8f…' (12 hex digits)
 */
export function supergraphVersion(sdl: string): string {
  // cyrb53 (public domain): two 32-bit lanes mixed into 53 bits.
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < sdl.length; i++) {
    const ch = sdl.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  const value = 4294967296 * (2097151 & h2) + (h1 >>> 0);
  return value.toString(16).padStart(14, '0').slice(-12);
}
