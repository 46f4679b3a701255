/**
 * Keeps a Map bounded without ever scanning it whole: a cursor that persists across calls walks
 * the entries in insertion order, deleting ended ones a few at a time, and evicting the one under
 * it when the map is full (so roughly the oldest). No timers, so it also runs in workerd.
 *
 * Why a persistent cursor: V8 leaves deleted Map entries as holes until it rehashes, so taking
 * "the first entry" again and again after deleting from the front rescans every hole each time.
 * A cursor passes each hole once.
 */
export class MapSweeper<K, V> {
  readonly #map: Map<K, V>;
  readonly #ended: (value: V, now: number) => boolean;
  #cursor: Iterator<[K, V]> | undefined;

  constructor(map: Map<K, V>, ended: (value: V, now: number) => boolean) {
    this.#map = map;
    this.#ended = ended;
  }

  /** Makes room for one more entry under `maxEntries`: sweeps `budget` entries, then evicts if still full. */
  makeRoom(now: number, maxEntries: number, budget: number): void {
    for (let i = 0; i < budget && this.#map.size > 0; i++) {
      const entry = this.#next();
      if (entry && this.#ended(entry[1], now)) this.#map.delete(entry[0]);
    }
    while (this.#map.size >= maxEntries) {
      const entry = this.#next();
      if (!entry) return;
      this.#map.delete(entry[0]);
    }
  }

  reset(): void {
    this.#cursor = undefined;
  }

  #next(): [K, V] | undefined {
    this.#cursor ??= this.#map.entries();
    let next = this.#cursor.next();
    if (next.done) {
      // Past the end (entries added later are not seen by a finished iterator): start over.
      this.#cursor = this.#map.entries();
      next = this.#cursor.next();
      if (next.done) return undefined;
    }
    return next.value;
  }
}
