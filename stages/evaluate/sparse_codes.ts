/**
 * Sparse SAE codes of a batch of tokens in CSR form: row `t` owns entries `offsets[t] ..
 * offsets[t + 1]` of `idx` (latent index) and `val` (its activation). TopK encoders give
 * `offsets[t] = t·k`; entries with a zero value are allowed (they do not count as firing).
 */
export interface SparseCodes {
  /** Number of rows (tokens). */
  n: number;
  /** Row starts, length n + 1. */
  offsets: Uint32Array;
  idx: Uint32Array;
  val: Float32Array;
}

/** CSR codes of fixed width `k` per row (the shape of a TopK encoder's output). */
export function fixedWidthCodes(n: number, k: number, idx: Uint32Array, val: Float32Array): SparseCodes {
  if (idx.length !== n * k || val.length !== n * k) {
    throw new Error(`sparse codes: expected ${n}×${k} entries, got ${idx.length} indices and ${val.length} values`);
  }
  const offsets = new Uint32Array(n + 1);
  for (let t = 0; t <= n; t++) offsets[t] = t * k;
  return { n, offsets, idx, val };
}

/** CSR codes from a dense [n, dSae] matrix, keeping the non-zero entries (test fixtures, small batches). */
export function codesFromDense(dense: ArrayLike<number>, n: number, dSae: number): SparseCodes {
  const offsets = new Uint32Array(n + 1);
  const idx: number[] = [];
  const val: number[] = [];
  for (let t = 0; t < n; t++) {
    for (let l = 0; l < dSae; l++) {
      const v = dense[t * dSae + l];
      if (v !== 0) {
        idx.push(l);
        val.push(v);
      }
    }
    offsets[t + 1] = idx.length;
  }
  return { n, offsets, idx: Uint32Array.from(idx), val: Float32Array.from(val) };
}

/** The rows `start .. start + count` of `codes` (views, offsets rebased to 0). */
export function sliceCodes(codes: SparseCodes, start: number, count: number): SparseCodes {
  const a = codes.offsets[start], b = codes.offsets[start + count];
  const offsets = new Uint32Array(count + 1);
  for (let t = 0; t <= count; t++) offsets[t] = codes.offsets[start + t] - a;
  return { n: count, offsets, idx: codes.idx.subarray(a, b), val: codes.val.subarray(a, b) };
}
