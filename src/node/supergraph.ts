import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { SupergraphSourceConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { SourceRead } from '../supergraph/fetchUrl.js';
import { readRemote, type SupergraphLocation } from '../supergraph/location.js';

/** `SUPERGRAPH` on Node: how to read it once, and how to learn that it may have changed. */
export interface NodeSupergraphSource {
  /** `file`, `url` or `hive-cdn`, for the start-up line. */
  readonly kind: SupergraphLocation['kind'];
  read(etag: string | undefined): Promise<SourceRead>;
  /**
   * Calls `changed` when the source may have changed: a URL every `SUPERGRAPH_POLL_SECONDS`; a file
   * when its directory reports it (an atomic rename included) and every `SUPERGRAPH_POLL_SECONDS` as
   * well (watching is not reliable on every file system). Returns the stop function.
   */
  watch(changed: () => void): () => void;
}

/**
 * The configured source: an http(s) URL or Hive CDN (`If-None-Match`, `SUPERGRAPH_AUTHORIZATION` or
 * the CDN key, `SUPERGRAPH_MAX_BYTES`, `SUPERGRAPH_TIMEOUT_MS`) or a file path (size-bounded too).
 */
export function nodeSupergraphSource(location: SupergraphLocation, settings: SupergraphSourceConfig, log: Logger): NodeSupergraphSource {
  const poll = (changed: () => void): (() => void) => {
    const timer = setInterval(changed, settings.pollMs);
    timer.unref();
    return () => clearInterval(timer);
  };
  if (location.kind !== 'file') return { kind: location.kind, read: (etag) => readRemote(location, settings, etag), watch: poll };
  const source = location.path;
  return {
    kind: 'file',
    async read() {
      const { size } = await stat(source).catch((error: unknown) => {
        throw new Error(error instanceof Error ? error.message : String(error));
      });
      if (size > settings.maxBytes) throw new Error(`${size} bytes, over SUPERGRAPH_MAX_BYTES (${settings.maxBytes})`);
      return { kind: 'sdl', sdl: await readFile(source, 'utf8') };
    },
    watch(changed) {
      const stopPolling = poll(changed);
      let watcher: FSWatcher | undefined;
      let debounce: NodeJS.Timeout | undefined;
      try {
        // The directory, not the file: an editor's or a deployment's rename replaces the file.
        watcher = watch(dirname(source), { persistent: false }, (_event, name) => {
          if (name !== null && name !== basename(source)) return;
          clearTimeout(debounce);
          debounce = setTimeout(changed, 50);
          debounce.unref();
        });
        watcher.on('error', (error) => log.warn('watching SUPERGRAPH failed: polling only', { error: String(error) }));
      } catch (error) {
        log.warn('watching SUPERGRAPH failed: polling only', { error: String(error) });
      }
      return () => {
        stopPolling();
        clearTimeout(debounce);
        watcher?.close();
      };
    },
  };
}
