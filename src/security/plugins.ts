import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationContext, type ValidationRule } from 'graphql';
import { limitCodes, type SecurityLimits } from './limits.js';

export interface ErrorPolicyOptions {
  readonly development: boolean;
}

/** Codes of the limits that refuse a request with 400 whatever the client accepts. */
const refusalCodes = new Set<string>([limitCodes.depth, limitCodes.tokens, limitCodes.aliases, limitCodes.directives]);

/**
 * The runtime plugins that enforce the operation limits, built once per runtime. The counting is
 * graphql-armor's (max depth, tokens, aliases, directives) and graphql-js's
 * (`NoSchemaIntrospectionCustomRule`); this module only gives their errors Tollgate's codes and
 * statuses:
 *
 * - depth, tokens, aliases, directives: 400 with `MAX_…_EXCEEDED`, also under
 *   `Accept: application/json` — the gateway refuses the work, as it does a too-large body;
 * - introspection off: an ordinary validation error with `INTROSPECTION_DISABLED`, so it keeps
 *   GraphQL-over-HTTP's statuses (200 under `application/json`, 400 under
 *   `application/graphql-response+json`);
 * - field suggestions off: `Did you mean …?` is replaced by `[Suggestion hidden]`;
 * - errors a subgraph sends never tell the client more than their message, code and subgraph
 *   name in production (see `useErrorPolicy`; failed subgraph calls: src/gateway/upstreamErrors.ts).
 *
 * @example createGatewayRuntime({ …, plugins: () => securityPlugins(config.security, { development }) })
 */
export function securityPlugins(limits: SecurityLimits, options: ErrorPolicyOptions): GatewayPlugin[] {
  const plugins: GatewayPlugin[] = [];
  if (limits.maxTokens > 0) {
    plugins.push(
      maxTokensPlugin({
        n: limits.maxTokens,
        // Thrown from the lexer: parsing stops at the first token over the limit.
        onReject: [
          (_context, error) => {
            throw limitError(error, limitCodes.tokens);
          },
        ],
      }) as GatewayPlugin,
    );
  }

  const rules: ValidationRule[] = [];
  const report = (code: string) => [
    (context: ValidationContext | null, error: GraphQLError) => context?.reportError(limitError(error, code)),
  ];
  if (limits.maxDepth > 0) {
    rules.push(
      maxDepthRule({ n: limits.maxDepth, flattenFragments: true, propagateOnRejection: false, onReject: report(limitCodes.depth) }),
    );
  }
  if (limits.maxAliases > 0) {
    rules.push(maxAliasesRule({ n: limits.maxAliases, propagateOnRejection: false, onReject: report(limitCodes.aliases) }));
  }
  if (limits.maxDirectives > 0) {
    rules.push(maxDirectivesRule({ n: limits.maxDirectives, propagateOnRejection: false, onReject: report(limitCodes.directives) }));
  }
  if (!limits.introspection) rules.push(withCode(NoSchemaIntrospectionCustomRule, limitCodes.introspection));
  if (rules.length > 0) {
    plugins.push({
      onValidate({ addValidationRule }) {
        for (const rule of rules) addValidationRule(rule);
      },
    });
  }

  if (!limits.fieldSuggestions) plugins.push(blockFieldSuggestionsPlugin() as GatewayPlugin);

  plugins.push(useJsonParamErrors(), useErrorPolicy(options));
  return plugins;
}

/** The library's error with Tollgate's code, without graphql-armor's "Syntax Error: " prefix. */
function limitError(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message.replace(/^Syntax Error: /, ''), {
    nodes: error.nodes,
    extensions: { code },
  });
}

/** `rule`, with `extensions.code` on every error it reports. */
function withCode(rule: ValidationRule, code: string): ValidationRule {
  const coded: ValidationRule = (context) => {
    const reporting = Object.create(context) as ValidationContext;
    reporting.reportError = (error: GraphQLError) =>
      context.reportError(new GraphQLError(error.message, { nodes: error.nodes, extensions: { ...error.extensions, code } }));
    return rule(reporting);
  };
  Object.defineProperty(coded, 'name', { value: `${rule.name}WithCode` });
  return coded;
}

/**
 * Extension keys that describe Tollgate's insides rather than the client's request: the subgraph
 * request (URL, body) and response (status, raw body) the runtime attaches to upstream errors,
 * and stack traces a subgraph may send. Removed from responses in production.
 * (`originalError` stays, reduced to name and message: the runtime's status choice reads it.)
 */
const internalExtensions = ['request', 'response', 'stacktrace', 'exception'];

/**
 * The last say on every GraphQL result before it is serialised:
 * - a result with execution errors has `data` (null when nothing is left);
 * - limit refusals become 400 under every media type;
 * - a result with data is 200 even when a subgraph call timed out (the runtime would answer 504,
 *   which GraphQL-over-HTTP forbids for a response with data under
 *   `application/graphql-response+json`); without data the runtime's status stays;
 * - in production, `internalExtensions` are removed.
 */
function useErrorPolicy({ development }: ErrorPolicyOptions): GatewayPlugin {
  return {
    onResultProcess({ result }) {
      const results = Array.isArray(result) ? result : Symbol.asyncIterator in result ? [] : [result];
      for (const one of results) {
        if (!one.errors?.length) continue;
        // An error with a path was raised while executing: the result then has `data`, null when
        // nothing is left (GraphQL spec, "Response"). The Rust planner leaves it out; without it
        // the runtime would answer such a result 500 instead of 200.
        if (one.data === undefined && one.errors.some((error) => error.path !== undefined)) {
          (one as { data?: unknown }).data = null;
        }
        const withData = one.data !== null && one.data !== undefined;
        for (const error of one.errors) {
          const extensions = error.extensions as Record<string, unknown> | undefined;
          if (!extensions) continue;
          const code = typeof extensions['code'] === 'string' ? extensions['code'] : undefined;
          if (code !== undefined && refusalCodes.has(code)) {
            extensions['http'] = { status: 400 };
            continue;
          }
          if (withData) delete extensions['http'];
          if (!development) {
            for (const key of internalExtensions) delete extensions[key];
            const original = extensions['originalError'];
            if (typeof original === 'object' && original !== null) {
              const { name, message } = original as { name?: unknown; message?: unknown };
              extensions['originalError'] = { name: String(name ?? 'Error'), message: String(message ?? '') };
            }
          }
        }
      }
    },
  };
}

/**
 * GET's `variables` and `extensions` are JSON; the runtime lets a client's invalid JSON there
 * escape as an unexpected error (500, logged with a stack). It is the client's mistake: 400.
 */
function useJsonParamErrors(): GatewayPlugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          if (!(error instanceof SyntaxError)) throw error;
          throw new GraphQLError('A request parameter (variables or extensions) is not valid JSON.', {
            extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
          });
        }
      });
    },
  };
}
