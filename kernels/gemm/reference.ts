/**
 * Float64 reference for every GEMM in this folder (the kernels are checked against it).
 *
 *   C[m,n] = beta·C[m,n] + alpha · Σ_k opA[m,k] · opB[k,n] + bias[n]
 *
 * opA = A (stored [M,K]) or Aᵀ (A stored [K,M] when transA); opB = B (stored [K,N]) or Bᵀ (B stored
 * [N,K] when transB). With `sub` (length K), opA[m,k] is replaced by opA[m,k] - sub[k] (x - b_dec).
 * beta is 1 with `accumulate` (C is read), else 0. All arrays row-major.
 */
export interface GemmRefArgs {
  M: number;
  K: number;
  N: number;
  a: ArrayLike<number>;
  b: ArrayLike<number>;
  transA?: boolean;
  transB?: boolean;
  bias?: ArrayLike<number>;
  sub?: ArrayLike<number>;
  alpha?: number;
  /** Initial C to accumulate into (length M·N). */
  c?: ArrayLike<number>;
}

/** Returns C [M,N] as float64, computed in float64. */
export function gemmReference(args: GemmRefArgs): Float64Array {
  const { M, K, N, a, b, transA = false, transB = false, bias, sub, alpha = 1, c } = args;
  const out = new Float64Array(M * N);
  const row = new Float64Array(K);
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) {
      row[k] = (transA ? a[k * M + m] : a[m * K + k]) - (sub ? sub[k] : 0);
    }
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += row[k] * (transB ? b[n * K + k] : b[k * N + n]);
      out[m * N + n] = alpha * s + (bias ? bias[n] : 0) + (c ? c[m * N + n] : 0);
    }
  }
  return out;
}
