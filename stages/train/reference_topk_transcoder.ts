/**
 * Float64 reference of a TopK / BatchTopK (skip) transcoder's step (definitions in ./sparse_path.ts), x [B, d_in]
 * → y [B, d_out]:
 *   pre = x·W_enc + b_enc (no centring);  z = TopK (BatchTopK) of pre, ReLU;  ŷ = z·W_dec + b_dec (+ x·W_skip)
 *   L = mean_t ‖y − ŷ‖² + aux_coef·min(n_dead/aux_k, 1)·mean_t ‖ê − (y − ŷ)‖²  (ê: the top aux_k dead latents'
 *   ReLU(pre)·W_dec, no bias)
 * Gradients: dvec = (2/B)(ŷ − y), daux = (2/B)·aux_coef·scale·(ê − e);  dpre_ti = dvec_t·W_dec_i (i active) +
 *   daux_t·W_dec_i (i in AuxK);  gW_dec_i = Σ_t z_ti·dvec_t + a_ti·daux_t;  gW_enc = xᵀ·dpre;  gb_enc = Σ_t dpre;
 *   gb_dec = Σ_t dvec;  gW_skip = xᵀ·dvec;  decoder rows' parallel component dropped with normalizeDecoder.
 */
import { projectDecoderGrad, type RefConfig, referenceForward, type RefResult } from "./reference.ts";
import { topkIndices } from "./sae_cpu.ts";
import { decoderRowNorms, outputSideGrads } from "./reference_transcoder.ts";
import type { SaeParams } from "./trainer.ts";

export function referenceTopkTranscoderStep(
  p: SaeParams,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  c: RefConfig & { d_out: number; skip?: boolean },
): RefResult {
  const { d_in: D, d_sae: S, batch: B, d_out: O } = c;
  // The plain SAE's selection with b_dec = 0 on the input side: pre = x·W_enc + b_enc, the same TopK rule.
  const { pre, z } = referenceForward({ ...p, b_dec: new Float32Array(D) }, x, c);
  const wn = decoderRowNorms(p.W_dec, S, O);
  const rowDecode = (t: number, lat: Float64Array, bias: boolean) => {
    const out = new Float64Array(O);
    for (let o = 0; o < O; o++) out[o] = bias ? p.b_dec[o] : 0;
    for (let i = 0; i < S; i++) {
      const v = lat[t * S + i];
      if (v !== 0) { for (let o = 0; o < O; o++) out[o] += v * p.W_dec[i * O + o]; }
    }
    return out;
  };
  const dvec = new Float64Array(B * O), daux = new Float64Array(B * O), a = new Float64Array(B * S);
  const nDead = c.dead ? c.dead.filter(Boolean).length : 0;
  const ka = Math.min(c.auxK, nDead), scale = Math.min(nDead / c.auxK, 1);
  let mse = 0, aux = 0, l0 = 0;
  for (let t = 0; t < B; t++) {
    const yh = rowDecode(t, z, true);
    if (c.skip) {
      for (let o = 0; o < O; o++) for (let d = 0; d < D; d++) yh[o] += x[t * D + d] * p.W_skip![d * O + o];
    }
    for (let i = 0; i < S; i++) if (z[t * S + i] > 0) l0 += 1 / B;
    if (ka > 0) {
      const row = pre.subarray(t * S, (t + 1) * S).map((v, i) => (c.dead![i] ? v : -Infinity));
      for (const i of topkIndices(row, ka)) a[t * S + i] = Math.max(0, pre[t * S + i]);
    }
    const eh = rowDecode(t, a, false);
    for (let o = 0; o < O; o++) {
      const r = yh[o] - y[t * O + o];
      mse += r * r / B;
      dvec[t * O + o] = 2 / B * r;
      if (ka > 0) {
        const diff = eh[o] + r; // ê − (y − ŷ)
        aux += c.auxCoef * scale * diff * diff / B;
        daux[t * O + o] = 2 / B * c.auxCoef * scale * diff;
      }
    }
  }
  const W_enc = new Float64Array(D * S), W_dec = new Float64Array(S * O), b_enc = new Float64Array(S);
  const { b_dec, W_skip } = outputSideGrads(x, dvec, { ...c, skip: !!c.skip });
  for (let t = 0; t < B; t++) {
    for (let i = 0; i < S; i++) {
      const j = t * S + i;
      if (z[j] === 0 && a[j] === 0) continue;
      let g = 0;
      for (let o = 0; o < O; o++) {
        g += (z[j] > 0 ? dvec[t * O + o] : 0) * p.W_dec[i * O + o] +
          (a[j] > 0 ? daux[t * O + o] : 0) * p.W_dec[i * O + o];
        W_dec[i * O + o] += z[j] * dvec[t * O + o] + a[j] * daux[t * O + o];
      }
      b_enc[i] += g;
      for (let d = 0; d < D; d++) W_enc[d * S + i] += x[t * D + d] * g;
    }
  }
  if (c.normalizeDecoder) projectDecoderGrad(W_dec, p.W_dec, wn, O);
  const log_threshold = new Float64Array(S);
  return { loss: mse + aux, mse, l0, grads: { W_enc, W_dec, b_enc, b_dec, log_threshold, W_skip } };
}
