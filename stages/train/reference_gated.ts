/**
 * Float64 reference of the gated SAE's training step (definitions in ./arch_gated.ts), for the tests:
 *   π_gate = xc·W_enc + b_gate (b_enc),  π_mag = e^{r_mag}·(π_gate − b_gate) + b_mag
 *   f = [π_gate > 0]·ReLU(π_mag),  a = ReLU(π_gate),  x̂ = f·W_dec + b_dec,  x̂_gate = a·W_dec + b_dec
 *   L = mse + l1·mean_t Σ_i a_ti‖W_dec_i‖ + mean_t ‖x̂_gate − x‖²
 * Gradients (dvec = (2/B)(x̂ − x), dvec_g = (2/B)(x̂_gate − x)):
 *   dπ_mag = (dvec·W_decᵀ)·[π_gate > 0][π_mag > 0];  dπ_gate = (dvec_g·W_decᵀ + (l1/B)‖W_dec_i‖)·[π_gate > 0]
 *   du = dπ_gate + e^{r_mag}·dπ_mag;  gW_enc = xcᵀ·du;  gb_gate = Σ_t dπ_gate;  gb_mag = Σ_t dπ_mag
 *   gr_mag = Σ_t dπ_mag·(π_mag − b_mag);  gW_dec = fᵀ·dvec + aᵀ·dvec_g + (l1/B)(Σ_t a_ti) W_dec_i/‖W_dec_i‖
 *   gb_dec = Σ_t (dvec + dvec_g) − W_enc·Σ_t du
 * With gatedFrozenDecoder the aᵀ·dvec_g and dvec_g terms are dropped (frozen decoder in the auxiliary term).
 */
import { projectDecoderGrad, type RefConfig, referenceDecode, referenceEncoder, type RefResult } from "./reference.ts";
import type { SaeParams } from "./trainer.ts";

export function referenceGatedForward(
  p: SaeParams,
  x: ArrayLike<number>,
  c: Pick<RefConfig, "d_in" | "d_sae" | "batch">,
) {
  const { d_sae: S, batch: B } = c;
  const { xc, pre, wn } = referenceEncoder(p, x, c);
  const pm = new Float64Array(B * S);
  const z = new Float64Array(B * S);
  const a = new Float64Array(B * S);
  for (let j = 0; j < B * S; j++) {
    const i = j % S;
    pm[j] = Math.exp(p.r_mag[i]) * (pre[j] - p.b_enc[i]) + p.b_mag[i];
    z[j] = pre[j] > 0 ? Math.max(pm[j], 0) : 0;
    a[j] = Math.max(pre[j], 0);
  }
  const theta = Float64Array.from(p.log_threshold, Math.exp);
  return { xc, pre, wn, theta, z, sparse: false, pm, a };
}

export function referenceGatedStep(p: SaeParams, x: ArrayLike<number>, c: RefConfig): RefResult {
  const { d_in: D, d_sae: S, batch: B } = c;
  const thaw = c.gatedFrozenDecoder ? 0 : 1;
  const l1 = c.sparsityCoef;
  const { xc, pre, wn, z, pm, a } = referenceGatedForward(p, x, c);
  const xhat = referenceDecode(p, z, c);
  const xg = referenceDecode(p, a, c);
  let mse = 0, aux = 0, penalty = 0, l0 = 0;
  const dvec = new Float64Array(B * D);
  const dvecG = new Float64Array(B * D);
  for (let j = 0; j < B * D; j++) {
    const r = xhat[j] - x[j];
    const rg = xg[j] - x[j];
    mse += r * r / B;
    aux += rg * rg / B;
    dvec[j] = 2 / B * r;
    dvecG[j] = 2 / B * rg;
  }
  const du = new Float64Array(B * S);
  const gb_enc = new Float64Array(S);
  const b_mag = new Float64Array(S);
  const r_mag = new Float64Array(S);
  const asum = new Float64Array(S);
  for (let t = 0; t < B; t++) {
    for (let i = 0; i < S; i++) {
      const j = t * S + i;
      if (z[j] > 0) l0 += 1 / B;
      penalty += l1 * a[j] * wn[i] / B;
      asum[i] += a[j];
      if (!(pre[j] > 0)) continue;
      let df = 0, da = 0;
      for (let d = 0; d < D; d++) {
        df += dvec[t * D + d] * p.W_dec[i * D + d];
        da += dvecG[t * D + d] * p.W_dec[i * D + d];
      }
      const dm = pm[j] > 0 ? df : 0;
      const dg = da + l1 / B * wn[i];
      du[j] = dg + Math.exp(p.r_mag[i]) * dm;
      gb_enc[i] += dg;
      b_mag[i] += dm;
      r_mag[i] += dm * (pm[j] - p.b_mag[i]);
    }
  }
  const W_dec = new Float64Array(S * D);
  for (let i = 0; i < S; i++) {
    for (let t = 0; t < B; t++) {
      const v = z[t * S + i];
      if (v !== 0) { for (let d = 0; d < D; d++) W_dec[i * D + d] += v * dvec[t * D + d]; }
      const g = thaw * a[t * S + i];
      if (g !== 0) { for (let d = 0; d < D; d++) W_dec[i * D + d] += g * dvecG[t * D + d]; }
    }
    for (let d = 0; d < D; d++) W_dec[i * D + d] += l1 / B * asum[i] * p.W_dec[i * D + d] / wn[i];
  }
  if (c.normalizeDecoder) projectDecoderGrad(W_dec, p.W_dec, wn, D);
  const W_enc = new Float64Array(D * S);
  const usum = new Float64Array(S);
  for (let t = 0; t < B; t++) {
    for (let i = 0; i < S; i++) {
      const g = du[t * S + i];
      usum[i] += g;
      if (g !== 0) { for (let d = 0; d < D; d++) W_enc[d * S + i] += xc[t * D + d] * g; }
    }
  }
  const b_dec = new Float64Array(D);
  for (let d = 0; d < D; d++) {
    let s = 0;
    for (let t = 0; t < B; t++) s += dvec[t * D + d] + thaw * dvecG[t * D + d];
    for (let i = 0; i < S; i++) s -= p.W_enc[d * S + i] * usum[i];
    b_dec[d] = s;
  }
  return {
    loss: mse + penalty + aux,
    mse,
    l0,
    grads: { W_enc, W_dec, b_enc: gb_enc, b_dec, log_threshold: new Float64Array(S), r_mag, b_mag },
  };
}
