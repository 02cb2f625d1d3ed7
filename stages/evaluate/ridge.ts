/**
 * One-vs-rest ridge-regression probes for C classes at once (scikit-learn's RidgeClassifier), in float64:
 *
 *   minimise over W [d, C], b [C]:  ‖Xc·W − (Y − Ȳ)‖²_F + λ‖W‖²_F,   Xc = X − μ (columns centred),
 *   W = (XcᵀXc + λI)⁻¹ XcᵀY,   b_c = ȳ_c − μ·w_c,
 *
 * with Y the one-hot labels; the predicted class is argmax_c (x·w_c + b_c). One d×d Cholesky solve gives all C
 * probes (O(n·d² + d³)), where C separate logistic fits would cost C Newton solves: what makes the first-letter
 * probes of the absorption metric affordable. The intercept is not penalised.
 */

export interface RidgeProbes {
  d: number;
  classes: number;
  /** W [d, C] row-major. */
  W: Float64Array;
  b: Float64Array;
}

/** Fit on rows of `X` [n, d] with class labels `y` ∈ [0, C). */
export function fitRidgeProbes(X: Float64Array, n: number, d: number, y: ArrayLike<number>, C: number, l2 = 1) {
  if (X.length !== n * d || y.length !== n) throw new Error(`ridge: X has ${X.length} values, expected ${n}×${d}`);
  const mu = new Float64Array(d), ybar = new Float64Array(C);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) mu[j] += X[i * d + j];
    ybar[y[i]]++;
  }
  for (let j = 0; j < d; j++) mu[j] /= Math.max(1, n);
  for (let c = 0; c < C; c++) ybar[c] /= Math.max(1, n);
  // G = XcᵀXc + λI (upper triangle, then mirrored) and B = XcᵀY (Σ over rows of xc·onehot; centring Y is
  // unnecessary because Σ xc = 0).
  const G = new Float64Array(d * d), B = new Float64Array(d * C), xc = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) xc[j] = X[i * d + j] - mu[j];
    for (let j = 0; j < d; j++) {
      const v = xc[j], o = j * d;
      if (v === 0) continue;
      for (let k = j; k < d; k++) G[o + k] += v * xc[k];
      B[j * C + y[i]] += v;
    }
  }
  for (let j = 0; j < d; j++) {
    G[j * d + j] += l2;
    for (let k = 0; k < j; k++) G[j * d + k] = G[k * d + j];
  }
  const L = cholesky(G, d);
  const W = new Float64Array(d * C), col = new Float64Array(d);
  for (let c = 0; c < C; c++) {
    for (let j = 0; j < d; j++) col[j] = B[j * C + c];
    const w = choleskySolve(L, d, col);
    for (let j = 0; j < d; j++) W[j * C + c] = w[j];
  }
  const b = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += mu[j] * W[j * C + c];
    b[c] = ybar[c] - s;
  }
  return { d, classes: C, W, b } satisfies RidgeProbes;
}

/** Decision values [n, C] of the probes. */
export function ridgeScores(p: RidgeProbes, X: Float64Array, n: number): Float64Array {
  const { d, classes: C, W, b } = p, out = new Float64Array(n * C);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < C; c++) out[i * C + c] = b[c];
    for (let j = 0; j < d; j++) {
      const v = X[i * d + j];
      if (v === 0) continue;
      for (let c = 0; c < C; c++) out[i * C + c] += v * W[j * C + c];
    }
  }
  return out;
}

/** Lower-triangular L with L·Lᵀ = A (A symmetric positive definite, d×d row-major). */
export function cholesky(A: Float64Array, d: number): Float64Array {
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * d + j];
      for (let k = 0; k < j; k++) s -= L[i * d + k] * L[j * d + k];
      if (i === j) {
        if (!(s > 0)) throw new Error(`ridge: matrix not positive definite at ${i} (pivot ${s})`);
        L[i * d + i] = Math.sqrt(s);
      } else L[i * d + j] = s / L[j * d + j];
    }
  }
  return L;
}

/** Solve L·Lᵀ·x = rhs. */
export function choleskySolve(L: Float64Array, d: number, rhs: Float64Array): Float64Array {
  const z = new Float64Array(d), x = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = rhs[i];
    for (let k = 0; k < i; k++) s -= L[i * d + k] * z[k];
    z[i] = s / L[i * d + i];
  }
  for (let i = d - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < d; k++) s -= L[k * d + i] * x[k];
    x[i] = s / L[i * d + i];
  }
  return x;
}
