import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { silentLogger, type Logger } from '../../log.js';
import { abortable } from '../abort.js';
import { defaultMaxWaitMs } from '../deadline.js';
import type { Check, Refund } from '../policy.js';
import type { DecideOptions, RateLimitStore, StoreHealth, StoreVerdict } from '../store.js';
import { decideScript, defaultKeyPrefix, scriptCall, toDecisions } from './decideScript.js';
import { refundCall, refundScript } from './refundScript.js';
import { WriteCoalescer } from './writeCoalescer.js';

export interface RedisStoreOptions {
  /** `redis://[user:password@]host[:port][/db]` or `rediss://…` (TLS). Ignored with `cluster`. */
  readonly url?: string;
  /**
   * Redis Cluster seed nodes, each `host:port` or a `redis://`/`rediss://` URL (the first URL
   * with credentials or TLS gives them to every node). `REDIS_CLUSTER_NODES`, comma-separated.
   */
  readonly cluster?: readonly string[];
  /** Prepended to every key; default `tollgate:`. */
  readonly keyPrefix?: string;
  /**
   * Open a fresh connection for every decision and close it afterwards, through
   * `DecideOptions.waitUntil` when given. For workerd, which forbids using an I/O object
   * (a socket) from another request than the one that created it. Not with `cluster`.
   */
  readonly connectionPerRequest?: boolean;
  /** TCP (and TLS) connect deadline; default 1000 ms. */
  readonly connectTimeoutMs?: number;
  /**
   * A connection with commands outstanding and nothing received for this long is dropped and
   * reconnected (a server that accepts and never answers); default 5000 ms, the longest a
   * decision waits (deadline.ts `maxWaitMs`). Not shorter: ioredis's timer runs in the timers
   * phase, before the poll phase that would read a reply already waiting, so an event loop held
   * longer than this (GraphQL work, a long GC pause, CPU throttling) would tear down a healthy
   * connection and fail every decision on it, while the deadline would have used their replies.
   * Decisions never wait for it: their deadline fails them open first.
   */
  readonly socketTimeoutMs?: number;
  /** Connection errors are logged here at debug level (ResilientStore summarises failures). */
  readonly log?: Logger;
  /** Extra ioredis options, applied last (tests and benchmarks). */
  readonly redisOptions?: RedisOptions;
}

type Client = Redis | Cluster;

/** A client with the decide and refund scripts defined as commands (`defineCommand`). */
type Deciding = {
  tollgateDecide(numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  tollgateRefund(numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
};

/**
 * Defines the decide script on a client: ioredis then sends EVAL with the script's text the first
 * time on each connection and EVALSHA after it (EVAL again on NOSCRIPT), so every decision is one
 * round trip, a fresh connection's too.
 */
function withDecide<C extends Client>(client: C): C & Deciding {
  client.defineCommand('tollgateDecide', { lua: decideScript });
  client.defineCommand('tollgateRefund', { lua: refundScript });
  return client as C & Deciding;
}

/**
 * Rate limiting in Redis over TCP with ioredis: each decision is one call of the decide script
 * (EVAL on a connection's first use, EVALSHA after: `withDecide`), so one round trip, atomic
 * across instances. With `connectionPerRequest`, each decision is one EVAL on its fresh
 * connection: still one round trip after the connection, whatever the server's script cache holds.
 * Fails fast: no offline queue, no retries of a command, reconnects with capped, jittered
 * backoff. Wrap it in `ResilientStore` for deadlines, fail-open and the circuit breaker.
 *
 * @example
 * const store = new RedisStore({ url: 'redis://:secret@10.0.0.5:6379/2' });
 * const verdict = await store.decide('203.0.113.7', [{ name: 'default', limit: defaultPolicy, cost: 1 }], { signal });
 */
export class RedisStore implements RateLimitStore {
  readonly kind = 'redis';
  readonly #prefix: string;
  readonly #log: Logger;
  readonly #shared: (Client & Deciding) | undefined;
  readonly #perRequestOptions: RedisOptions | undefined;
  readonly #perRequestClients = new Set<Redis>();
  /** The shared connection to a single node (not a Cluster), whose writes are coalesced. */
  readonly #single: Redis | undefined;
  readonly #coalescer = new WriteCoalescer();
  #ready: Promise<void> | undefined;
  #lastError: string | undefined;
  #closed = false;

  constructor(options: RedisStoreOptions) {
    this.#prefix = options.keyPrefix ?? defaultKeyPrefix;
    this.#log = options.log ?? silentLogger;
    const base: RedisOptions = {
      connectTimeout: options.connectTimeoutMs ?? 1000,
      socketTimeout: options.socketTimeoutMs ?? defaultMaxWaitMs,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      // No INFO ready check and no CLIENT SETINFO on connect: a connection costs no commands
      // beyond AUTH/SELECT, which matters when there is one connection per request.
      enableReadyCheck: false,
      disableClientInfo: true,
      retryStrategy: (attempt) => reconnectDelay(attempt),
    };
    if (options.cluster) {
      if (options.connectionPerRequest) throw new Error('RedisStore: connectionPerRequest does not support cluster');
      const { nodes, nodeOptions } = clusterNodes(options.cluster);
      const clusterOptions: ClusterOptions = {
        enableOfflineQueue: false,
        clusterRetryStrategy: (attempt) => reconnectDelay(attempt),
        slotsRefreshTimeout: options.connectTimeoutMs ?? 1000,
        redisOptions: { ...base, ...nodeOptions, ...options.redisOptions },
      };
      this.#shared = withDecide(this.#watch(new Cluster(nodes, clusterOptions)));
    } else {
      if (!options.url) throw new Error('RedisStore: url or cluster is required');
      const fromUrl = redisOptionsFromUrl(options.url);
      if (options.connectionPerRequest) {
        this.#perRequestOptions = {
          ...base,
          ...fromUrl,
          lazyConnect: true,
          retryStrategy: () => null,
          ...options.redisOptions,
        };
      } else {
        this.#single = new Redis({ ...base, ...fromUrl, ...options.redisOptions });
        this.#shared = withDecide(this.#watch(this.#single));
      }
    }
  }

  /**
   * On the shared connection the signal is only watched while waiting for the connection: a
   * command once written cannot be withdrawn, and it stays outstanding at most `socketTimeoutMs`.
   * (ResilientStore stops waiting at its deadline either way; reading no signal here keeps the
   * hot path free of AbortSignal listeners, which cost more than the rest of a decision.)
   * With `connectionPerRequest`, an abort closes the connection at once.
   */
  async decide(clientKey: string, checks: readonly Check[], options?: DecideOptions): Promise<StoreVerdict> {
    if (this.#closed) throw new Error('RedisStore is closed');
    const { keys, args } = scriptCall(this.#prefix, clientKey, checks);
    const client = this.#shared;
    if (client) {
      if (client.status !== 'ready') await abortable(this.#whenReady(client), options?.signal);
      this.#coalesce();
      return { decisions: toDecisions(await client.tollgateDecide(keys.length, ...keys, ...args), checks.length), source: 'store' };
    }
    const reply = await this.#onNewConnection((c) => c.tollgateDecide(keys.length, ...keys, ...args), options ?? {});
    return { decisions: toDecisions(reply, checks.length), source: 'store' };
  }

  /** One call of the refund script (`refundScript`): one round trip, like a decision. */
  async refund(clientKey: string, refunds: readonly Refund[], options?: DecideOptions): Promise<void> {
    if (this.#closed) throw new Error('RedisStore is closed');
    const { keys, args } = refundCall(this.#prefix, clientKey, refunds);
    const client = this.#shared;
    if (client) {
      if (client.status !== 'ready') await abortable(this.#whenReady(client), options?.signal);
      this.#coalesce();
      await client.tollgateRefund(keys.length, ...keys, ...args);
      return;
    }
    await this.#onNewConnection((c) => c.tollgateRefund(keys.length, ...keys, ...args), options ?? {});
  }

  /** One script call on a connection of its own, closed afterwards (through `waitUntil` when given). */
  async #onNewConnection(command: (client: Redis & Deciding) => Promise<unknown>, options: DecideOptions): Promise<unknown> {
    const { signal, waitUntil } = options;
    signal?.throwIfAborted();
    const client = this.#connect();
    const closeOnAbort = (): void => client.disconnect();
    signal?.addEventListener('abort', closeOnAbort, { once: true });
    try {
      await abortable(client.connect(), signal);
      // A fresh connection's first call of a script is an EVAL (withDecide): one round trip
      // whatever the server's script cache holds.
      return await abortable(command(client), signal);
    } finally {
      signal?.removeEventListener('abort', closeOnAbort);
      const closed = this.#release(client);
      if (waitUntil) waitUntil(closed);
    }
  }

  /**
   * Connects the shared client (a Cluster's slots discovered) and loads the decide script on every
   * master, so the first decisions cost what any other does; waits through reconnection attempts
   * until `signal` aborts.
   * With `connectionPerRequest`, opens one connection (the address and credentials work) and
   * closes it.
   */
  async connect(signal?: AbortSignal): Promise<void> {
    if (this.#closed) throw new Error('RedisStore is closed');
    const client = this.#shared;
    if (!client) {
      const connection = this.#connect();
      try {
        await abortable(connection.connect(), signal);
        await abortable(connection.ping(), signal);
      } finally {
        await this.#release(connection);
      }
      return;
    }
    if (client.status !== 'ready') await untilReady(client, signal, () => this.#lastError);
    // The script compiled on every master before the first burst (its first EVAL per connection
    // then finds it in the server's cache).
    const masters = client instanceof Cluster ? client.nodes('master') : [client];
    await abortable(Promise.all(masters.map((node) => node.script('LOAD', decideScript))), signal);
  }

  health(): StoreHealth {
    if (!this.#shared) return { status: 'ok' };
    if (this.#shared.status === 'ready') return { status: 'ok' };
    const detail = `redis ${this.#shared.status}${this.#lastError ? `: ${this.#lastError}` : ''}`;
    return { status: 'degraded', detail };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closing = [...this.#perRequestClients].map((client) => this.#release(client));
    if (this.#shared) {
      const client = this.#shared;
      closing.push(
        client.status === 'ready'
          ? client.quit().then(
              () => {},
              () => client.disconnect(),
            )
          : Promise.resolve(client.disconnect()),
      );
    }
    await Promise.all(closing);
  }

  /** The shared client, for tests and tools; undefined with `connectionPerRequest`. */
  get client(): Redis | Cluster | undefined {
    return this.#shared;
  }

  /** The command about to be written joins the others issued with it in one write (WriteCoalescer). */
  #coalesce(): void {
    const stream = this.#single?.stream;
    if (stream) this.#coalescer.beforeWrite(stream);
  }

  #connect(): Redis & Deciding {
    const client = withDecide(new Redis(this.#perRequestOptions!));
    client.on('error', (error: Error) => (this.#lastError = error.message));
    this.#perRequestClients.add(client);
    return client;
  }

  /** Closes a per-request connection; the promise settles once the socket is closed. */
  #release(client: Redis): Promise<void> {
    this.#perRequestClients.delete(client);
    if (client.status === 'end') return Promise.resolve();
    const ended = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000);
      client.once('end', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    client.disconnect();
    return ended;
  }

  #watch<C extends Client>(client: C): C {
    client.on('error', (error: Error) => {
      if (error.message !== this.#lastError) this.#log.debug('redis connection error', { error });
      this.#lastError = error.message;
    });
    client.on('ready', () => (this.#lastError = undefined));
    return client;
  }

  /**
   * Resolves when the shared client is ready; one promise however many decisions wait. Only
   * while a connection attempt is under way: a client waiting to reconnect fails at once.
   */
  #whenReady(client: Client): Promise<void> {
    const status = client.status;
    if (status === 'ready') return Promise.resolve();
    if (status !== 'wait' && status !== 'connecting' && status !== 'connect') {
      return Promise.reject(new Error(`redis not connected (${status}${this.#lastError ? `: ${this.#lastError}` : ''})`));
    }
    this.#ready ??= new Promise<void>((resolve, reject) => {
      const settle = (error?: Error): void => {
        client.off('ready', onReady);
        client.off('close', onClose);
        client.off('end', onClose);
        this.#ready = undefined;
        if (error) reject(error);
        else resolve();
      };
      const onReady = (): void => settle();
      const onClose = (): void => settle(new Error(`redis connection failed${this.#lastError ? `: ${this.#lastError}` : ''}`));
      client.on('ready', onReady);
      client.on('close', onClose);
      client.on('end', onClose);
      if (status === 'wait') client.connect().catch(() => {});
    });
    return this.#ready;
  }
}

/**
 * Resolves when `client` is ready, through as many reconnection attempts as it makes; rejects
 * when `signal` aborts or the client gives up (`end`).
 */
function untilReady(client: Client, signal: AbortSignal | undefined, lastError: () => string | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const settle = (error?: Error): void => {
      client.off('ready', onReady);
      client.off('end', onEnd);
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    const onReady = (): void => settle();
    const onEnd = (): void => settle(new Error(`redis connection closed${lastError() ? `: ${lastError()}` : ''}`));
    const onAbort = (): void => {
      const error = lastError();
      settle(new Error(`redis not ready (${client.status}${error ? `: ${error}` : ''})`));
    };
    if (signal?.aborted) return onAbort();
    client.on('ready', onReady);
    client.on('end', onEnd);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (client.status === 'wait') client.connect().catch(() => {});
  });
}

/**
 * Reconnect delay for the `attempt`th try: doubling from 50 ms, capped at 2 s, with jitter (half
 * to all of it) so that many instances losing one Redis do not reconnect in step.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(2000, 50 * 2 ** Math.min(Math.max(attempt - 1, 0), 6));
  return Math.round(ceiling * (0.5 + random() / 2));
}

/** ioredis connection options from a `redis://` or `rediss://` URL (host, port, auth, db, TLS). */
export function redisOptionsFromUrl(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('REDIS_URL is not a valid URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`REDIS_URL must start with redis:// or rediss://, not ${parsed.protocol}//`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const options: RedisOptions = { host, port: parsed.port ? Number(parsed.port) : 6379 };
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  const dbText = parsed.pathname.replace(/^\//, '') || parsed.searchParams.get('db') || '';
  if (dbText) {
    const db = Number(dbText);
    if (!Number.isInteger(db) || db < 0) throw new Error(`REDIS_URL names an invalid database: ${dbText}`);
    options.db = db;
  }
  if (parsed.protocol === 'rediss:') options.tls = { servername: host };
  return options;
}

function clusterNodes(entries: readonly string[]): {
  nodes: { host: string; port: number }[];
  nodeOptions: RedisOptions;
} {
  let nodeOptions: RedisOptions = {};
  const nodes = entries.map((entry) => {
    const text = entry.trim();
    if (/^rediss?:\/\//.test(text)) {
      const { host, port, db: _db, ...rest } = redisOptionsFromUrl(text);
      if (Object.keys(nodeOptions).length === 0) nodeOptions = rest;
      return { host: host!, port: port! };
    }
    const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text);
    if (!match) throw new Error(`REDIS_CLUSTER_NODES: expected host:port or a redis:// URL, got "${text}"`);
    return { host: match[1]!, port: Number(match[2]) };
  });
  if (nodes.length === 0) throw new Error('REDIS_CLUSTER_NODES names no node');
  return { nodes, nodeOptions };
}
