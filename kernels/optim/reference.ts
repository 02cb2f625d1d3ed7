/** Float64 references of the optimizer kernels (tests compare the WGSL against these on random inputs). */

// ---- adam
/** Float64 reference of one Adam step (in place on float64 copies). */
export function adamReference(
  p: Float64Array,
  m: Float64Array,
  v: Float64Array,
  g: ArrayLike<number>,
  h: { lr: number; b1: number; b2: number; eps: number; step: number; clip?: number },
): void {
  const bc1 = 1 - h.b1 ** h.step;
  const bc2 = 1 - h.b2 ** h.step;
  for (let j = 0; j < p.length; j++) {
    const gj = g[j] * (h.clip ?? 1);
    m[j] = h.b1 * m[j] + (1 - h.b1) * gj;
    v[j] = h.b2 * v[j] + (1 - h.b2) * gj * gj;
    p[j] -= (h.lr / bc1) * m[j] / (Math.sqrt(v[j]) / Math.sqrt(bc2) + h.eps);
  }
}

// ---- decoder_norm
/**
 * Float64 reference of the four entry points on W_dec [S, D] and its gradient g [S, D]:
 *   wnorm_i = ‖w_i‖;  project: g_i − (g_i·w_i/‖w_i‖²)·w_i;  normalize: w_i/‖w_i‖;
 *   l1Grad: g_i + (l1/B)·zsum_i·w_i/‖w_i‖.
 */
export function decoderNormReference(
  W_dec: ArrayLike<number>,
  g: ArrayLike<number>,
  d: { D: number; S: number; B?: number; l1?: number; zsum?: ArrayLike<number> },
) {
  const { D, S } = d;
  const wnorm = new Float64Array(S);
  const projected = Float64Array.from(g);
  const normalized = Float64Array.from(W_dec);
  const l1Grad = Float64Array.from(g);
  for (let i = 0; i < S; i++) {
    let ww = 0;
    let gw = 0;
    for (let k = 0; k < D; k++) {
      ww += W_dec[i * D + k] ** 2;
      gw += W_dec[i * D + k] * g[i * D + k];
    }
    const n = Math.sqrt(ww);
    wnorm[i] = n;
    const c = (d.l1 ?? 0) / (d.B ?? 1) * (d.zsum?.[i] ?? 0) / n;
    for (let k = 0; k < D; k++) {
      projected[i * D + k] -= gw / ww * W_dec[i * D + k];
      normalized[i * D + k] /= n;
      l1Grad[i * D + k] += c * W_dec[i * D + k];
    }
  }
  return { wnorm, projected, normalized, l1Grad };
}

// ---- grad_norm
/** Float64 reference: ‖g‖ = sqrt(Σ_buffers Σ_j g_j²), clip = min(1, maxNorm / (‖g‖ + 1e-6)). */
export function gradNormReference(grads: ArrayLike<number>[], maxNorm: number): { norm: number; clip: number } {
  let s = 0;
  for (const g of grads) for (let j = 0; j < g.length; j++) s += g[j] * g[j];
  const norm = Math.sqrt(s);
  return { norm, clip: Math.min(1, maxNorm / (norm + 1e-6)) };
}
