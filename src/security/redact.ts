/**
 * Log fields without stack traces, for production: keys named `stack`/`stacktrace` are dropped
 * and any other string that carries a stack (`\n    at …`) keeps its first line only. Stack
 * frames name files and directories of the deployment; the message says what went wrong.
 *
 * @example log.error(msg, withoutStacks(fields))
 */
export function withoutStacks<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return (stackFrame.test(value) ? value.slice(0, value.indexOf('\n')) : value) as T;
  if (typeof value !== 'object' || value === null || depth > 6) return value;
  if (Array.isArray(value)) return value.map((item) => withoutStacks(item, depth + 1)) as T;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (stackKeys.has(key.toLowerCase())) continue;
    copy[key] = withoutStacks(field, depth + 1);
  }
  return copy as T;
}

const stackKeys = new Set(['stack', 'stacktrace']);
const stackFrame = /\n\s+at \S/;
