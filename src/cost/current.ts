import { createCostEstimator, type CostEstimator } from './estimator.js';

/**
 * The cost estimator of the supergraph being served: the SDL is recorded on every swap and the
 * estimator built from it on first use, so a gateway that prices nothing never builds one, and a
 * new graph is priced by its own directives from its first request.
 */
export interface CurrentEstimator {
  /** The served graph's estimator; undefined before a graph is loaded, or when it cannot be read. */
  get(): CostEstimator | undefined;
  /** Records a new supergraph. */
  swap(supergraphSdl: string): void;
}

export function currentEstimator(defaultListSize: number, onError: (error: unknown) => void): CurrentEstimator {
  let sdl: string | undefined;
  let built: CostEstimator | undefined;
  let failed = false;
  return {
    get() {
      if (built || failed || sdl === undefined) return built;
      try {
        built = createCostEstimator(sdl, { defaultListSize });
      } catch (error) {
        failed = true;
        onError(error);
      }
      return built;
    },
    swap(next) {
      if (next === sdl) return;
      sdl = next;
      built = undefined;
      failed = false;
    },
  };
}
