import type { LogFields, Logger } from '../log.js';

export interface RequestLog {
  /** The logger to hand to the lifecycle: writes everything, holds back `request` lines. */
  readonly log: Logger;
  /** Writes the held `request` line of `requestId` with `fields` added (no-op when none is held). */
  complete(requestId: string, fields: LogFields): void;
}

/**
 * Lets the request observer add fields to the lifecycle's one `request` line instead of writing
 * a second line per request. The lifecycle logs that line and calls the observer right after,
 * in the same turn; the line is held until then, and written as it is at the next microtask if
 * no observer completes it.
 *
 * (Once `HandlerDeps` can contribute fields to the request line itself, this goes away.)
 *
 * @example
 * const requestLog = holdRequestLines(log);
 * createHandler({ ..., log: requestLog.log, observe: (e) => requestLog.complete(e.requestId, { client }) });
 */
export function holdRequestLines(inner: Logger): RequestLog {
  const held = new Map<string, LogFields>();
  const write = (requestId: string, extra?: LogFields): void => {
    const fields = held.get(requestId);
    if (fields === undefined) return;
    held.delete(requestId);
    inner.info('request', extra ? { ...fields, ...extra } : fields);
  };
  const log: Logger = {
    debug: (msg, fields) => inner.debug(msg, fields),
    warn: (msg, fields) => inner.warn(msg, fields),
    error: (msg, fields) => inner.error(msg, fields),
    enabled: (level) => inner.enabled(level),
    info(msg, fields) {
      const requestId = fields?.['requestId'];
      if (msg !== 'request' || typeof requestId !== 'string' || held.has(requestId)) {
        inner.info(msg, fields);
        return;
      }
      held.set(requestId, fields!);
      queueMicrotask(() => write(requestId));
    },
  };
  return { log, complete: write };
}
