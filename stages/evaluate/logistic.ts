/**
 * L2-regularised binary logistic regression in float64, fitted by truncated Newton (Newton-CG), the
 * objective and defaults of scikit-learn's `LogisticRegression(penalty="l2", C=1)` that SAEBench's
 * sparse probing uses:
 *
 *   minimise  L(w, b) = Σ_i [ log(1 + e^{z_i}) − y_i z_i ] + (λ/2)·‖w‖²,   z_i = x_i·w + b,  λ = 1/C
 *
 * (the intercept b is not penalised). Gradient g = Xᵀ(p − y) + λw, ∂L/∂b = Σ(p − y) with p = σ(z);
 * Hessian-vector product H·(v, v_b) = Xᵀ S (X v + v_b) + λv with S = diag(p(1 − p)). Each Newton step
 * solves H·Δ = −g approximately by conjugate gradients (never forming H, so d = 512 costs O(n·d) per
 * product), then backtracks until L decreases (Armijo). The columns are centred before fitting (x − μ; the
 * intercept absorbs the shift, b = b′ − μ·w, so the optimum is the same) because activations with a large
 * common offset make H badly conditioned and CG slow. Deterministic: no randomness, fixed iteration order.
 */

export interface LogisticOptions {
  /** λ = 1/C, the L2 penalty on w (default 1, scikit-learn's C = 1). */
  l2?: number;
  /** Newton iterations at most (default 50). */
  maxIter?: number;
  /** Stop when max |∂L| ≤ tol · n (L sums over the n examples; default 1e-9). */
  tol?: number;
}

export interface LogisticModel {
  w: Float64Array;
  b: number;
  /** Newton iterations run. */
  iterations: number;
}

/** σ(z) without overflow. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** log(1 + e^z) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** X[o .. o + d) · w, four accumulators (these loops are the whole cost of a fit). */
function dotRow(X: Float64Array, o: number, w: Float64Array, d: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, j = 0;
  for (; j + 3 < d; j += 4) {
    s0 += X[o + j] * w[j];
    s1 += X[o + j + 1] * w[j + 1];
    s2 += X[o + j + 2] * w[j + 2];
    s3 += X[o + j + 3] * w[j + 3];
  }
  for (; j < d; j++) s0 += X[o + j] * w[j];
  return (s0 + s1) + (s2 + s3);
}

/** out += t · X[o .. o + d). */
function axpyRow(out: Float64Array, X: Float64Array, o: number, t: number, d: number): void {
  let j = 0;
  for (; j + 3 < d; j += 4) {
    out[j] += X[o + j] * t;
    out[j + 1] += X[o + j + 1] * t;
    out[j + 2] += X[o + j + 2] * t;
    out[j + 3] += X[o + j + 3] * t;
  }
  for (; j < d; j++) out[j] += X[o + j] * t;
}

/** z = X w + b for row-major X [n, d]. */
function margins(X: Float64Array, n: number, d: number, w: Float64Array, b: number, out: Float64Array): void {
  for (let i = 0; i < n; i++) out[i] = b + dotRow(X, i * d, w, d);
}

function loss(z: Float64Array, y: Uint8Array, w: Float64Array, l2: number): number {
  let s = 0;
  for (let i = 0; i < z.length; i++) s += softplus(z[i]) - (y[i] ? z[i] : 0);
  let r = 0;
  for (let j = 0; j < w.length; j++) r += w[j] * w[j];
  return s + 0.5 * l2 * r;
}

/**
 * Fit the model on rows of `X` ([n, d], row-major) with labels `y` (0/1). Features are used as given (no
 * standardisation, as in SAEBench).
 */
export function fitLogistic(
  X: Float64Array,
  n: number,
  d: number,
  y: Uint8Array,
  opts: LogisticOptions = {},
): LogisticModel {
  if (X.length !== n * d || y.length !== n) throw new Error(`logistic: X has ${X.length} values, expected ${n}×${d}`);
  const mu = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mu[j] += X[i * d + j];
  for (let j = 0; j < d; j++) mu[j] /= Math.max(1, n);
  const Xc = X.map((v, i) => v - mu[i % d]);
  const m = fitCentred(Xc, n, d, y, opts);
  let shift = 0;
  for (let j = 0; j < d; j++) shift += mu[j] * m.w[j];
  return { ...m, b: m.b - shift };
}

function fitCentred(X: Float64Array, n: number, d: number, y: Uint8Array, opts: LogisticOptions): LogisticModel {
  const l2 = opts.l2 ?? 1, maxIter = opts.maxIter ?? 50, tol = opts.tol ?? 1e-9;
  let w = new Float64Array(d), b = 0, iterations = 0;
  const z = new Float64Array(n), s = new Float64Array(n), xv = new Float64Array(n);
  const g = new Float64Array(d + 1);
  margins(X, n, d, w, b, z);
  let f = loss(z, y, w, l2);
  // H·v over the extended vector (v[0..d) for w, v[d] for b).
  const hv = (v: Float64Array, out: Float64Array) => {
    margins(X, n, d, v, v[d], xv);
    out.fill(0);
    for (let i = 0; i < n; i++) {
      const t = s[i] * xv[i];
      if (t === 0) continue;
      axpyRow(out, X, i * d, t, d);
      out[d] += t;
    }
    for (let j = 0; j < d; j++) out[j] += l2 * v[j];
  };
  for (; iterations < maxIter; iterations++) {
    g.fill(0);
    for (let i = 0; i < n; i++) {
      const p = sigmoid(z[i]), r = p - y[i];
      s[i] = p * (1 - p);
      axpyRow(g, X, i * d, r, d);
      g[d] += r;
    }
    for (let j = 0; j < d; j++) g[j] += l2 * w[j];
    let gmax = 0;
    for (const v of g) gmax = Math.max(gmax, Math.abs(v));
    if (gmax <= tol * Math.max(1, n)) break;
    const step = conjugateGradient(hv, g, d + 1, Math.min(d + 1, 100));
    // Backtracking line search on the full objective.
    let t = 1, slope = 0;
    for (let j = 0; j <= d; j++) slope += g[j] * step[j];
    // Newton decrement −gᵀΔ below float resolution of L: Armijo can no longer see a decrease, so take the
    // full step and stop (else the line search would halve 30 times for nothing).
    const converged = -slope <= 1e-12 * Math.max(1, Math.abs(f));
    const wNew = new Float64Array(d);
    let accepted = false;
    for (let ls = 0; ls < 30; ls++) {
      for (let j = 0; j < d; j++) wNew[j] = w[j] + t * step[j];
      const bNew = b + t * step[d];
      margins(X, n, d, wNew, bNew, z);
      const fNew = loss(z, y, wNew, l2);
      if (converged || fNew <= f + 1e-4 * t * slope) {
        w = wNew.slice();
        b = bNew;
        f = fNew;
        accepted = true;
        break;
      }
      t *= 0.5;
    }
    if (converged) break;
    if (!accepted) {
      margins(X, n, d, w, b, z);
      break; // no decrease along the Newton direction: at the optimum to float precision
    }
  }
  return { w, b, iterations };
}

/** Solve H·x = −g by conjugate gradients, stopping at relative residual 0.1·min(1, √‖g‖) (Eisenstat–Walker). */
function conjugateGradient(
  hv: (v: Float64Array, out: Float64Array) => void,
  g: Float64Array,
  m: number,
  maxIter: number,
): Float64Array {
  const x = new Float64Array(m), r = new Float64Array(m), p = new Float64Array(m), hp = new Float64Array(m);
  for (let j = 0; j < m; j++) r[j] = -g[j];
  p.set(r);
  let rr = 0;
  for (const v of r) rr += v * v;
  const gNorm = Math.sqrt(rr), stop = Math.min(0.5, Math.sqrt(gNorm)) * gNorm;
  for (let it = 0; it < maxIter && Math.sqrt(rr) > stop; it++) {
    hv(p, hp);
    let php = 0;
    for (let j = 0; j < m; j++) php += p[j] * hp[j];
    if (php <= 0) break;
    const a = rr / php;
    let rrNew = 0;
    for (let j = 0; j < m; j++) {
      x[j] += a * p[j];
      r[j] -= a * hp[j];
      rrNew += r[j] * r[j];
    }
    const beta = rrNew / rr;
    rr = rrNew;
    for (let j = 0; j < m; j++) p[j] = r[j] + beta * p[j];
  }
  return x;
}

/** Decision values z_i = x_i·w + b. */
export function decisionValues(model: LogisticModel, X: Float64Array, n: number, d: number): Float64Array {
  const z = new Float64Array(n);
  margins(X, n, d, model.w, model.b, z);
  return z;
}

export interface BinaryScores {
  /** (TP + TN) / n. */
  accuracy: number;
  /** F1 of the positive class: 2·TP / (2·TP + FP + FN) (0 when there are no positives at all). */
  f1: number;
}

/** Accuracy and positive-class F1 of predictions `pred` (z > 0 ⇒ 1) against labels `y`. */
export function binaryScores(y: Uint8Array, z: Float64Array): BinaryScores {
  let tp = 0, fp = 0, fn = 0, tn = 0;
  for (let i = 0; i < y.length; i++) {
    const p = z[i] > 0;
    if (p && y[i]) tp++;
    else if (p) fp++;
    else if (y[i]) fn++;
    else tn++;
  }
  const denom = 2 * tp + fp + fn;
  return { accuracy: y.length ? (tp + tn) / y.length : NaN, f1: denom ? (2 * tp) / denom : 0 };
}
