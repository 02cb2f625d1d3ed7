/**
 * Float64 reference of a (skip) transcoder's training step (definitions in ./arch_transcoder.ts):
 * x [B, d_in] → y [B, d_out], standard or jumprelu activation; loss, L0 and every gradient (TopK / BatchTopK:
 * ./reference_topk_transcoder.ts).
 * JumpReLU's threshold gradient uses the straight-through estimator of ./reference.ts.
 */
import type { RefConfig, RefResult } from "./reference.ts";
import type { SaeParams } from "./trainer.ts";

/** A transcoder's output-side gradients from dvec [B, d_out]: gb_dec = Σ_t dvec, gW_skip = xᵀ·dvec [d_in, d_out]. */
export function outputSideGrads(
  x: ArrayLike<number>,
  dvec: Float64Array,
  c: { d_in: number; d_out: number; batch: number; skip: boolean },
) {
  const { d_in: D, d_out: O, batch: B } = c;
  const b_dec = new Float64Array(O), W_skip = c.skip ? new Float64Array(D * O) : undefined;
  for (let t = 0; t < B; t++) {
    for (let o = 0; o < O; o++) {
      b_dec[o] += dvec[t * O + o];
      if (W_skip) { for (let d = 0; d < D; d++) W_skip[d * O + o] += x[t * D + d] * dvec[t * O + o]; }
    }
  }
  return { b_dec, W_skip };
}

/** ‖W_dec_i‖ of each of the S decoder rows (each O wide), in float64. */
export function decoderRowNorms(W_dec: Float32Array, S: number, O: number): Float64Array {
  return Float64Array.from({ length: S }, (_, i) => Math.hypot(...W_dec.subarray(i * O, (i + 1) * O)));
}

export function referenceTranscoderStep(
  p: SaeParams,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  c: RefConfig & { d_out: number; skip?: boolean },
): RefResult {
  const { d_in: D, d_sae: S, batch: B, d_out: O } = c;
  const jump = c.architecture === "jumprelu";
  const coef = c.sparsityCoef;
  const wn = decoderRowNorms(p.W_dec, S, O);
  const theta = Float64Array.from(p.log_threshold, Math.exp);
  const pre = new Float64Array(B * S);
  const z = new Float64Array(B * S);
  for (let t = 0; t < B; t++) {
    for (let i = 0; i < S; i++) {
      let s = p.b_enc[i];
      for (let d = 0; d < D; d++) s += x[t * D + d] * p.W_enc[d * S + i];
      pre[t * S + i] = s;
      z[t * S + i] = s > 0 && !(jump && s <= theta[i]) ? s : 0;
    }
  }
  let mse = 0, l0 = 0, penalty = 0;
  const dvec = new Float64Array(B * O);
  for (let t = 0; t < B; t++) {
    for (let o = 0; o < O; o++) {
      let v = p.b_dec[o];
      for (let i = 0; i < S; i++) v += z[t * S + i] * p.W_dec[i * O + o];
      if (c.skip) { for (let d = 0; d < D; d++) v += x[t * D + d] * p.W_skip![d * O + o]; }
      const r = v - y[t * O + o];
      mse += r * r / B;
      dvec[t * O + o] = 2 / B * r;
    }
    for (let i = 0; i < S; i++) {
      if (z[t * S + i] > 0) (l0 += 1 / B), (penalty += coef * (jump ? 1 : z[t * S + i] * wn[i]) / B);
    }
  }
  const W_enc = new Float64Array(D * S), W_dec = new Float64Array(S * O), b_enc = new Float64Array(S);
  const log_threshold = new Float64Array(S);
  const { b_dec, W_skip } = outputSideGrads(x, dvec, { ...c, skip: !!c.skip });
  for (let t = 0; t < B; t++) {
    for (let i = 0; i < S; i++) {
      const j = t * S + i;
      let g = 0;
      for (let o = 0; o < O; o++) {
        g += dvec[t * O + o] * p.W_dec[i * O + o];
        W_dec[i * O + o] += z[j] * dvec[t * O + o];
      }
      let dpre = 0;
      if (jump) {
        if (pre[j] > theta[i] && pre[j] > 0) dpre = g;
        if (Math.abs((pre[j] - theta[i]) / c.bandwidth) < 0.5) {
          log_threshold[i] += theta[i] * (-(theta[i] / c.bandwidth) * g - coef / B / c.bandwidth);
        }
      } else if (pre[j] > 0) dpre = g + coef / B * wn[i];
      b_enc[i] += dpre;
      for (let d = 0; d < D; d++) W_enc[d * S + i] += x[t * D + d] * dpre;
    }
  }
  if (!jump) {
    for (let i = 0; i < S; i++) {
      let zs = 0;
      for (let t = 0; t < B; t++) zs += z[t * S + i];
      for (let o = 0; o < O; o++) W_dec[i * O + o] += coef / B * zs * p.W_dec[i * O + o] / wn[i];
    }
  }
  return { loss: mse + penalty, mse, l0, grads: { W_enc, W_dec, b_enc, b_dec, log_threshold, W_skip } };
}
