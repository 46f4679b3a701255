/** Structured logging: one JSON object per line, filtered by level. */

export const logLevels = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof logLevels)[number];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
}

/**
 * A logger writing JSON lines through `write` (console.log by default, which Workers Logs and
 * Node's stdout both collect).
 *
 * @example createLogger('info').info('request', { status: 200 })
 */
export function createLogger(level: LogLevel, write: (line: string) => void = (line) => console.log(line)): Logger {
  const threshold = logLevels.indexOf(level);
  const at =
    (lvl: LogLevel) =>
    (msg: string, fields?: LogFields): void => {
      if (logLevels.indexOf(lvl) < threshold) return;
      const line = { time: new Date().toISOString(), level: lvl, msg, ...fields };
      // The replacer is called for every key and value; a line of plain values (the request
      // line) has nothing for it to change, and is written without it.
      write(fields === undefined || plainFields(fields) ? JSON.stringify(line) : JSON.stringify(line, jsonSafe));
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    enabled: (lvl) => logLevels.indexOf(lvl) >= threshold,
  };
}

/**
 * Whether every field is a string, number, boolean or null/undefined, or a plain object or array of
 * those: values `jsonSafe` leaves as they are.
 */
function plainFields(fields: LogFields): boolean {
  for (const key in fields) {
    const value = fields[key];
    if (plainValue(value)) continue;
    if (typeof value !== 'object') return false;
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return false;
    for (const inner in value) if (!plainValue((value as Record<string, unknown>)[inner])) return false;
  }
  return true;
}

function plainValue(value: unknown): boolean {
  return value === null || value === undefined || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** Errors become `{ name, message }` (stacks only where a caller puts them in on purpose). */
function jsonSafe(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** A logger that drops everything, for tests and tools. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  enabled: () => false,
};
