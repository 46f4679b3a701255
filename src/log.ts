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
      write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields }, jsonSafe));
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    enabled: (lvl) => logLevels.indexOf(lvl) >= threshold,
  };
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
