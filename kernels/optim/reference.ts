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

// ---- resample
/**
 * Float64 reference of resample.wgsl, in place on float64 copies: W_enc [D, S], W_dec [S, D], since,
 * the W_enc/W_dec Adam moments and per-latent vectors to zero, for picks [(latent, row)] of x [·, D].
 * Mean norms over alive latents (since < window; all latents when none is alive); the re-initialised
 * decoder row is v̂ = (x_t − b_dec)/‖x_t − b_dec‖ (× the alive decoder norm unless normalize), the encoder
 * column 0.2·(alive encoder norm)·v̂, since_i = 0, moments and per-latent entries 0. A transcoder (`d_out`, targets
 * y [·, d_out], W_dec [S, d_out], b_dec [d_out]): encoder column ∝ x_t/‖x_t‖, decoder row ∝ (y_t − b_dec)/‖y_t − b_dec‖.
 */
export function resampleReference(
  d: { D: number; S: number; window: number; normalize: boolean; d_out?: number },
  s: {
    W_enc: Float64Array;
    W_dec: Float64Array;
    since: Uint32Array;
    moments: Float64Array[]; // mW_enc, vW_enc, mW_dec, vW_dec
    perLatent: Float64Array[];
  },
  x: ArrayLike<number>,
  bDec: ArrayLike<number>,
  picks: [number, number][],
  y?: ArrayLike<number>,
): { encNorm: number; decNorm: number } {
  const { D, S } = d;
  const O = d.d_out ?? D;
  let sumE = 0, sumD = 0, allE = 0, allD = 0, alive = 0;
  for (let i = 0; i < S; i++) {
    let e = 0, w = 0;
    for (let k = 0; k < D; k++) e += s.W_enc[k * S + i] ** 2;
    for (let o = 0; o < O; o++) w += s.W_dec[i * O + o] ** 2;
    allE += Math.sqrt(e);
    allD += Math.sqrt(w);
    if (s.since[i] < d.window) (sumE += Math.sqrt(e)), (sumD += Math.sqrt(w)), alive++;
  }
  const encNorm = alive ? sumE / alive : allE / S;
  const decNorm = alive ? sumD / alive : allD / S;
  for (const [i, t] of picks) {
    const u = Float64Array.from({ length: D }, (_, k) => x[t * D + k] - (y ? 0 : bDec[k]));
    const v = y ? Float64Array.from({ length: O }, (_, o) => y[t * O + o] - bDec[o]) : u;
    const nu = Math.hypot(...u), nv = Math.hypot(...v);
    for (let k = 0; k < D; k++) {
      s.W_enc[k * S + i] = u[k] / nu * 0.2 * encNorm;
      s.moments[0][k * S + i] = s.moments[1][k * S + i] = 0;
    }
    for (let o = 0; o < O; o++) {
      s.W_dec[i * O + o] = v[o] / nv * (d.normalize ? 1 : decNorm);
      s.moments[2][i * O + o] = s.moments[3][i * O + o] = 0;
    }
    s.since[i] = 0;
    for (const a of s.perLatent) a[i] = 0;
  }
  return { encNorm, decNorm };
}

// ---- tie
/** Float64 reference of tie.wgsl: gW_dec + gW_encᵀ ([S, D]) and W_decᵀ ([D, S]). */
export function tieReference(
  d: { D: number; S: number },
  gW_enc: ArrayLike<number>,
  gW_dec: ArrayLike<number>,
  W_dec: ArrayLike<number>,
): { gTied: Float64Array; W_enc: Float64Array } {
  const { D, S } = d;
  const gTied = Float64Array.from(gW_dec);
  const W_enc = new Float64Array(D * S);
  for (let i = 0; i < S; i++) {
    for (let k = 0; k < D; k++) {
      gTied[i * D + k] += gW_enc[k * S + i];
      W_enc[k * S + i] = W_dec[i * D + k];
    }
  }
  return { gTied, W_enc };
}
