/**
 * What a client's request may cost before the gateway refuses it (docs/architecture.md, "Security limits").
 * Parsed once from the environment by `parseConfig` (src/config.ts); enforced by the request
 * body limit (src/security/body.ts) and the runtime plugins (src/security/plugins.ts).
 */
export interface SecurityLimits {
  /** Largest request body read, in bytes; more is answered 413 without reading the rest. */
  readonly maxBodyBytes: number;
  /** Deepest field nesting of an operation (fragments do not add depth). 0: unlimited. */
  readonly maxDepth: number;
  /** Most lexical tokens in a document, counted while parsing. 0: unlimited. */
  readonly maxTokens: number;
  /** Most aliases in an operation, fragments included. 0: unlimited. */
  readonly maxAliases: number;
  /** Most directives in an operation, fragments included. 0: unlimited. */
  readonly maxDirectives: number;
  /** Most operations in one batched (JSON array) request. 0: batching off. */
  readonly batchLimit: number;
  /** Whether `__schema` and `__type` may be queried. */
  readonly introspection: boolean;
  /** Whether validation errors may say `Did you mean "…"?` (which leaks the schema). */
  readonly fieldSuggestions: boolean;
  /** Deadline for one subgraph call, in milliseconds; past it the call fails with GATEWAY_TIMEOUT. */
  readonly upstreamTimeoutMs: number;
}

/** The defaults: production's. Development allows introspection and suggestions. */
export const defaultLimits: SecurityLimits = {
  maxBodyBytes: 102_400,
  maxDepth: 10,
  maxTokens: 1_000,
  maxAliases: 15,
  maxDirectives: 50,
  batchLimit: 0,
  introspection: false,
  fieldSuggestions: false,
  upstreamTimeoutMs: 10_000,
};

/** The codes in `extensions.code` of the errors these limits produce. */
export const limitCodes = {
  body: 'PAYLOAD_TOO_LARGE',
  depth: 'MAX_DEPTH_EXCEEDED',
  tokens: 'MAX_TOKENS_EXCEEDED',
  aliases: 'MAX_ALIASES_EXCEEDED',
  directives: 'MAX_DIRECTIVES_EXCEEDED',
  introspection: 'INTROSPECTION_DISABLED',
} as const;
