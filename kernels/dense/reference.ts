/** Float64 references of the dense kernels (the tests compare the WGSL against these on random inputs). */

// ---- center
/** Float64 reference: xc[t, d] = x[t, d] − b_dec[d] for x [n, D]. */
export function centerReference(x: ArrayLike<number>, bDec: ArrayLike<number>, D: number): Float64Array {
  return Float64Array.from({ length: x.length }, (_, j) => x[j] - bDec[j % D]);
}

// ---- dense_act
/**
 * Float64 reference of forward, latent_stats and backward (formulas in dense_act.wgsl) on pre [B, S],
 * the upstream gradient dz [B, S], log thresholds, decoder norms, the sparsity coefficient and the
 * dead-latent clocks. rowstats holds only the slots forward writes (2 L0, 3 L1, 5 penalty).
 */
export function denseActReference(
  d: { B: number; S: number; jump: boolean; bandwidth: number },
  pre: ArrayLike<number>,
  dz: ArrayLike<number>,
  logThr: ArrayLike<number>,
  wnorm: ArrayLike<number>,
  coef: number,
  since: ArrayLike<number>,
) {
  const { B, S, jump, bandwidth: eps } = d;
  const z = new Float64Array(B * S);
  const dpre = new Float64Array(B * S);
  const rowstats = new Float64Array(B * 8);
  const gbEnc = new Float64Array(S);
  const zsum = new Float64Array(S);
  const glog = new Float64Array(S);
  const sinceOut = new Uint32Array(S);
  for (let i = 0; i < S; i++) {
    const th = Math.exp(logThr[i]);
    for (let t = 0; t < B; t++) {
      const j = t * S + i;
      const p = pre[j];
      const v = p > 0 && !(jump && p <= th) ? p : 0;
      z[j] = v;
      if (v > 0) {
        rowstats[t * 8 + 2] += 1;
        rowstats[t * 8 + 3] += v;
        rowstats[t * 8 + 5] += jump ? 1 : v * wnorm[i];
      }
      if (p > 0) dpre[j] = jump ? (p > th ? dz[j] : 0) : dz[j] + coef / B * wnorm[i];
      gbEnc[i] += dpre[j];
      zsum[i] += v;
      if (jump && Math.abs((p - th) / eps) < 0.5) glog[i] += th * (-(th / eps) * dz[j] - coef / B / eps);
    }
    sinceOut[i] = zsum[i] > 0 ? 0 : Math.min(since[i] + B, 0xf0000000);
  }
  return { z, dpre, rowstats, gbEnc, zsum, glog, since: sinceOut };
}

// ---- bdec_grad
/** Float64 reference: gb_dec[d] = Σ_t dvec[t, d] − Σ_i W_enc[d, i]·gb_enc[i] (dvec [B, D], W_enc [D, S]). */
export function bdecGradReference(
  dvec: ArrayLike<number>,
  W_enc: ArrayLike<number>,
  gbEnc: ArrayLike<number>,
  d: { B: number; D: number; S: number },
): Float64Array {
  const out = new Float64Array(d.D);
  for (let k = 0; k < d.D; k++) {
    let s = 0;
    for (let t = 0; t < d.B; t++) s += dvec[t * d.D + k];
    for (let i = 0; i < d.S; i++) s -= W_enc[k * d.S + i] * gbEnc[i];
    out[k] = s;
  }
  return out;
}

// ---- gated_act
/**
 * Float64 reference of gated_act.wgsl's forward and backward (formulas there): pre = π_gate [B, S],
 * dz = [df; da] [2B, S], per-latent r_mag, b_gate, b_mag, decoder norms, the l1 coefficient and the
 * dead-latent clocks. z is [f; a] [2B, S]; du [B, S]; rowstats holds slots 2 (L0), 3 (L1), 5 (penalty).
 */
export function gatedActReference(
  d: { B: number; S: number },
  pre: ArrayLike<number>,
  dz: ArrayLike<number>,
  p: { r_mag: ArrayLike<number>; b_gate: ArrayLike<number>; b_mag: ArrayLike<number>; wnorm: ArrayLike<number> },
  l1: number,
  since: ArrayLike<number>,
) {
  const { B, S } = d;
  const z = new Float64Array(2 * B * S);
  const du = new Float64Array(B * S);
  const rowstats = new Float64Array(B * 8);
  const [gbGate, gbMag, grMag, gsum, zsum] = [0, 0, 0, 0, 0].map(() => new Float64Array(S));
  const sinceOut = new Uint32Array(S);
  for (let i = 0; i < S; i++) {
    const er = Math.exp(p.r_mag[i]);
    let fired = false;
    for (let t = 0; t < B; t++) {
      const j = t * S + i;
      const pg = pre[j];
      const pm = er * (pg - p.b_gate[i]) + p.b_mag[i];
      const open = pg > 0;
      const f = open ? Math.max(pm, 0) : 0;
      const a = Math.max(pg, 0);
      z[j] = f;
      z[B * S + j] = a;
      if (f > 0) {
        rowstats[t * 8 + 2] += 1;
        rowstats[t * 8 + 3] += f;
        fired = true;
      }
      rowstats[t * 8 + 5] += a * p.wnorm[i];
      const dm = open && pm > 0 ? dz[j] : 0;
      const dg = open ? dz[B * S + j] + l1 / B * p.wnorm[i] : 0;
      du[j] = dg + er * dm;
      gbGate[i] += dg;
      gbMag[i] += dm;
      grMag[i] += dm * (pm - p.b_mag[i]);
      gsum[i] += du[j];
      zsum[i] += a;
    }
    sinceOut[i] = fired ? 0 : Math.min(since[i] + B, 0xf0000000);
  }
  return { z, du, rowstats, gbGate, gbMag, grMag, gsum, zsum, since: sinceOut };
}
