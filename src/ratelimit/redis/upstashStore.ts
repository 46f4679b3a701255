// The Cloudflare build of @upstash/redis: fetch only, no `cache` request option (which older
// workerd rejects); it runs on Node 20 too.
import { Redis, type RedisConfigCloudflare } from '@upstash/redis/cloudflare';
import { abortable } from '../abort.js';
import type { Check, Refund } from '../policy.js';
import type { DecideOptions, RateLimitStore, StoreVerdict } from '../store.js';
import { decideScript, decideScriptSha1, defaultKeyPrefix, isNoScriptError, scriptCall, toDecisions } from './decideScript.js';
import { refundCall, refundScript, refundScriptSha1 } from './refundScript.js';

export interface UpstashStoreOptions {
  /** `UPSTASH_REDIS_REST_URL`. */
  readonly url: string;
  /** `UPSTASH_REDIS_REST_TOKEN`. */
  readonly token: string;
  /** Prepended to every key; default `tollgate:`. */
  readonly keyPrefix?: string;
  /** Retries of a failed HTTP request inside @upstash/redis; default 0 (deadlines are ours). */
  readonly retries?: number;
  /**
   * Send EVAL with the script's text every time, never EVALSHA: one HTTP request per decision
   * whatever the server's script cache holds. For Workers, where no start-up loads the script and
   * a second request (NOSCRIPT, then EVAL) waits behind the isolate's other work.
   */
  readonly evalOnly?: boolean;
}

/**
 * Rate limiting in Redis over Upstash's REST protocol (fetch only, so it runs in Workers without
 * `nodejs_compat`): one HTTP request per decision, EVALSHA of the same script as `RedisStore`,
 * EVAL when the server answers NOSCRIPT (or always EVAL, with `evalOnly`).
 *
 * @example
 * const store = new UpstashStore({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN });
 */
export class UpstashStore implements RateLimitStore {
  readonly kind = 'upstash';
  readonly #prefix: string;
  readonly #config: RedisConfigCloudflare;
  readonly #redis: Redis;
  readonly #evalOnly: boolean;

  constructor(options: UpstashStoreOptions) {
    this.#prefix = options.keyPrefix ?? defaultKeyPrefix;
    this.#config = {
      url: options.url,
      token: options.token,
      // `retry: false` would still try twice on a network error; `retries: 0` tries once.
      retry: { retries: options.retries ?? 0, backoff: () => 0 },
      enableTelemetry: false,
      enableAutoPipelining: false,
      automaticDeserialization: false,
      readYourWrites: false,
    };
    this.#redis = new Redis(this.#config);
    this.#evalOnly = options.evalOnly ?? false;
  }

  async decide(clientKey: string, checks: readonly Check[], options: DecideOptions = {}): Promise<StoreVerdict> {
    const { keys, args } = scriptCall(this.#prefix, clientKey, checks);
    const reply = await this.#run(decideScript, decideScriptSha1, keys, args, options.signal);
    return { decisions: toDecisions(reply, checks.length) };
  }

  /** One call of the refund script (`refundScript`), one HTTP request. */
  async refund(clientKey: string, refunds: readonly Refund[], options: DecideOptions = {}): Promise<void> {
    const { keys, args } = refundCall(this.#prefix, clientKey, refunds);
    await this.#run(refundScript, refundScriptSha1, keys, args, options.signal);
  }

  /** EVALSHA of a script, EVAL when the server answers NOSCRIPT (or always EVAL, with `evalOnly`). */
  async #run(script: string, sha1: string, keys: string[], args: string[], signal: AbortSignal | undefined): Promise<unknown> {
    signal?.throwIfAborted();
    // @upstash/redis takes a signal per client, not per command; a client is a few µs to make.
    // (Given as a function, an abort rejects the request instead of resolving it with a dummy.)
    const redis = signal ? new Redis({ ...this.#config, signal: () => signal }) : this.#redis;
    const run = async (): Promise<unknown> => {
      try {
        if (this.#evalOnly) return await redis.eval(script, keys, args);
        return await redis.evalsha(sha1, keys, args);
      } catch (error) {
        if (this.#evalOnly || !isNoScriptError(error)) throw withoutCommand(error);
        return await redis.eval(script, keys, args).catch((error: unknown) => {
          throw withoutCommand(error);
        });
      }
    };
    return abortable(run(), signal);
  }

  /** Loads the decide script (one request), so the first decisions need no EVAL. */
  async connect(signal?: AbortSignal): Promise<void> {
    await abortable(
      this.#redis.scriptLoad(decideScript).catch((error: unknown) => {
        throw withoutCommand(error);
      }),
      signal,
    );
  }

  async close(): Promise<void> {}
}

/**
 * @upstash/redis appends `, command was: [...]` to its errors: the client key, an address, which
 * has no place in the failure log lines.
 */
function withoutCommand(error: unknown): unknown {
  if (!(error instanceof Error) || !error.message.includes(', command was: ')) return error;
  const cleaned = new Error(error.message.replace(/, command was: [\s\S]*$/, ''), { cause: error });
  cleaned.name = error.name;
  return cleaned;
}
