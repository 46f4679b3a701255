import { readFile } from 'node:fs/promises';
import { parse } from 'graphql';
import { ConfigError, isUrl } from '../config.js';

/**
 * Reads the supergraph named by `SUPERGRAPH` (a path or an http(s) URL) and checks that it is
 * a parsable supergraph SDL; anything else is a start-up error naming the variable.
 */
export async function loadSupergraph(source: string, timeoutMs = 10_000): Promise<string> {
  let sdl: string;
  try {
    if (isUrl(source)) {
      const response = await fetch(source, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      sdl = await response.text();
    } else {
      sdl = await readFile(source, 'utf8');
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError('SUPERGRAPH', source, `a readable supergraph file path or http(s) URL (${reason})`);
  }
  try {
    parse(sdl, { noLocation: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError('SUPERGRAPH', source, `a supergraph SDL (it does not parse: ${reason})`);
  }
  if (!sdl.includes('join__Graph')) {
    throw new ConfigError('SUPERGRAPH', source, 'a composed federation supergraph SDL (no join__Graph found)');
  }
  return sdl;
}
