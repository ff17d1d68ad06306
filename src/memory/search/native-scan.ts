import { createRequire } from 'node:module';

/**
 * SIMD brute-force nearest-neighbour search from usearch's prebuilt native addon (`exactSearch`), used for
 * large unfiltered scans where JavaScript loops are too slow (100k × 256 int8 in ~2 ms instead of ~45 ms).
 * When the addon cannot load on a platform, callers fall back to the JavaScript scan.
 */
export interface NativeMatches {
  keys: BigUint64Array;
  distances: Float32Array;
}

export type NativeExactSearch = (
  dataset: Float32Array | Int8Array,
  query: Float32Array | Int8Array,
  dimensions: number,
  count: number,
) => NativeMatches;

function load(): NativeExactSearch | undefined {
  try {
    const usearch = createRequire(import.meta.url)('usearch') as {
      exactSearch: (
        d: unknown,
        q: unknown,
        dims: number,
        count: number,
        metric: string,
        threads: number,
      ) => NativeMatches;
      MetricKind: { Cos: string };
    };
    const metric = usearch.MetricKind.Cos;
    return (dataset, query, dimensions, count) =>
      usearch.exactSearch(dataset, query, dimensions, count, metric, 1);
  } catch {
    return undefined;
  }
}

/** The native scan, or undefined on platforms without the addon. */
export const nativeExactSearch: NativeExactSearch | undefined = load();
