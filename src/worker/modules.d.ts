/** Text modules bundled by wrangler (`[[rules]] type = "Text"` in wrangler.toml). */
declare module '*.graphql' {
  const text: string;
  export default text;
}

/**
 * The part of workerd's `cloudflare:workers` module Tollgate uses (the Durable Object base class
 * and the storage API), declared here rather than pulling in the whole of @cloudflare/workers-types.
 */
declare module 'cloudflare:workers' {
  export interface DurableObjectStorage {
    list<T>(): Promise<Map<string, T>>;
    put<T>(entries: Record<string, T>): Promise<void>;
    delete(keys: string[]): Promise<number>;
    deleteAll(): Promise<void>;
    getAlarm(): Promise<number | null>;
    setAlarm(scheduledTime: number): Promise<void>;
  }
  export interface DurableObjectState {
    readonly storage: DurableObjectStorage;
    blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T>;
  }
  export abstract class DurableObject<Env = unknown> {
    protected readonly ctx: DurableObjectState;
    protected readonly env: Env;
    constructor(ctx: DurableObjectState, env: Env);
  }
}
