import { readFileSync } from 'node:fs';
import { ConfigError, type Env } from '../config.js';

/** Variables that may name a file on Node instead of holding JSON: the file's text is used. */
const fileVariables = ['API_KEYS', 'RATE_LIMIT_POLICIES'] as const;

/**
 * The environment with each of `fileVariables` that holds a path (anything not starting with `{` or `[`)
 * replaced by the file's contents, so `parseConfig` sees JSON either way.
 *
 * @example parseConfig(withFileVariables(process.env), 'node')
 */
export function withFileVariables(env: Env): Env {
  const out: Record<string, unknown> = { ...env };
  for (const name of fileVariables) {
    const value = env[name];
    if (typeof value !== 'string' || value.trim() === '' || /^[[{]/.test(value.trim())) continue;
    try {
      out[name] = readFileSync(value.trim(), 'utf8');
    } catch (error) {
      throw new ConfigError(
        name,
        value,
        `JSON, or the path of a readable JSON file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
      );
    }
  }
  return out;
}
