/**
 * Float64 reference of one training step's loss and gradients, for every architecture (tests compare
 * the GPU trainer against it). Same definitions as trainer.ts:
 *   xc = x − b_dec, pre = xc·W_enc + b_enc, z = act(pre), x̂ = z·W_dec + b_dec
 *   L = mean_t ‖x̂ − x‖² + penalty + AuxK
 *   standard: penalty = l1·mean_t Σ_i z_ti‖W_dec_i‖;  jumprelu: l0·mean_t Σ_i H(pre − θ_i), θ = exp(log θ)
 *   JumpReLU straight-through estimator (SAELens Step/JumpReLU), u = (pre − θ)/ε, K(u) = [|u| < ½]:
 *     ∂L/∂θ_i = Σ_t K(u_ti)·(−(θ_i/ε)·∂L/∂z_ti − (l0/B)/ε),  ∂L/∂log θ_i = θ_i·∂L/∂θ_i
 *   matryoshka_batchtopk: BatchTopK, plus the inner prefix levels' losses (./reference_matryoshka.ts)
 *   AuxK (topk, batchtopk, matryoshka_batchtopk): the top aux_k dead latents' ReLU(pre) reconstruct e = x − x̂ (no bias):
 *     aux = aux_coef·min(n_dead/aux_k, 1)·mean_t ‖ê − e‖²
 * Gradients with decoder rows' parallel component removed when normalizeDecoder is set; with tiedWeights
 * (W_enc = W_decᵀ) the W_dec gradient is the tied matrix's, gW_dec + gW_encᵀ, before that projection.
 */
import { topkIndices } from "./sae_cpu.ts";
import { referenceGatedForward, referenceGatedStep } from "./reference_gated.ts";
import { referenceMatryoshka } from "./reference_matryoshka.ts";
import type { Architecture, SaeParams } from "./trainer.ts";

export interface RefConfig {
  architecture: Architecture;
  d_in: number;
  d_sae: number;
  k: number;
  batch: number;
  auxK: number;
  /** Dead mask (AuxK candidates). */
  dead?: boolean[];
  sparsityCoef: number;
  auxCoef: number;
  bandwidth: number;
  normalizeDecoder: boolean;
  batchTopkCap: number;
  /** Gated: no auxiliary-loss gradient into the decoder. */
  gatedFrozenDecoder?: boolean;
  /** W_enc = W_decᵀ: the W_dec gradient is that of the tied matrix, gW_dec + gW_encᵀ. */
  tiedWeights?: boolean;
  /** matryoshka_batchtopk: the nested prefix widths. */
  matryoshkaWidths?: number[];
}

export interface RefResult {
  loss: number;
  mse: number;
  l0: number;
  grads: {
    W_enc: Float64Array;
    W_dec: Float64Array;
    b_enc: Float64Array;
    b_dec: Float64Array;
    log_threshold: Float64Array;
    /** Gated only. */
    r_mag?: Float64Array;
    b_mag?: Float64Array;
    /** Skip transcoders only. */
    W_skip?: Float64Array;
  };
}

/** xc = x − b_dec [B, D], pre = xc·W_enc + b_enc [B, S] and the decoder row norms ‖W_dec_i‖ [S]. */
export function referenceEncoder(
  p: SaeParams,
  x: ArrayLike<number>,
  c: { d_in: number; d_sae: number; batch: number },
) {
  const { d_in: D, d_sae: S, batch: B } = c;
  const xc = new Float64Array(B * D);
  for (let t = 0; t < B; t++) for (let d = 0; d < D; d++) xc[t * D + d] = x[t * D + d] - p.b_dec[d];
  const pre = new Float64Array(B * S);
  for (let t = 0; t < B; t++) {
    for (let i = 0; i < S; i++) {
      let s = p.b_enc[i];
      for (let d = 0; d < D; d++) s += xc[t * D + d] * p.W_enc[d * S + i];
      pre[t * S + i] = s;
    }
  }
  const wn = new Float64Array(S);
  for (let i = 0; i < S; i++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += p.W_dec[i * D + d] ** 2;
    wn[i] = Math.sqrt(s);
  }
  return { xc, pre, wn };
}

/** Forward pass: centred input, pre-activations, decoder norms, thresholds and latents z (training rule). */
export function referenceForward(
  p: SaeParams,
  x: ArrayLike<number>,
  c: Pick<RefConfig, "architecture" | "d_in" | "d_sae" | "k" | "batch" | "batchTopkCap">,
) {
  if (c.architecture === "gated") return referenceGatedForward(p, x, c);
  const { d_sae: S, batch: B } = c;
  const { xc, pre, wn } = referenceEncoder(p, x, c);
  const theta = Float64Array.from(p.log_threshold, Math.exp);
  const z = new Float64Array(B * S);
  const batch = c.architecture === "batchtopk" || c.architecture === "matryoshka_batchtopk";
  const sparse = c.architecture === "topk" || batch;
  if (sparse) {
    const cap = batch ? Math.min(S, Math.ceil(c.k * c.batchTopkCap)) : c.k;
    for (let t = 0; t < B; t++) {
      for (const i of topkIndices(pre.subarray(t * S, (t + 1) * S), cap)) z[t * S + i] = Math.max(0, pre[t * S + i]);
    }
    if (batch) {
      const vals = Array.from(z).filter((v) => v > 0).sort((a, b) => b - a);
      const thr = vals.length > c.k * B ? vals[c.k * B - 1] : 0;
      for (let j = 0; j < z.length; j++) if (z[j] < thr) z[j] = 0;
    }
  } else {
    for (let j = 0; j < z.length; j++) {
      const r = Math.max(0, pre[j]);
      z[j] = c.architecture === "jumprelu" && r <= theta[j % S] ? 0 : r;
    }
  }
  return { xc, pre, wn, theta, z, sparse };
}

/** Latents z [batch, d_sae] of the training forward pass. */
export function referenceActivations(
  p: SaeParams,
  x: ArrayLike<number>,
  c: Pick<RefConfig, "architecture" | "d_in" | "d_sae" | "k" | "batch" | "batchTopkCap">,
): Float64Array {
  return referenceForward(p, x, c).z;
}

/** x̂ = z·W_dec + b_dec for latents z [B, S]. */
export function referenceDecode(p: SaeParams, z: Float64Array, c: { d_in: number; d_sae: number; batch: number }) {
  const { d_in: D, d_sae: S, batch: B } = c;
  const out = new Float64Array(B * D);
  for (let t = 0; t < B; t++) {
    for (let d = 0; d < D; d++) out[t * D + d] = p.b_dec[d];
    for (let i = 0; i < S; i++) {
      const v = z[t * S + i];
      if (v !== 0) { for (let d = 0; d < D; d++) out[t * D + d] += v * p.W_dec[i * D + d]; }
    }
  }
  return out;
}

/** Drop from each decoder-row gradient its component parallel to the row (in place). */
export function projectDecoderGrad(gW_dec: Float64Array, W_dec: ArrayLike<number>, wn: ArrayLike<number>, D: number) {
  for (let i = 0; i < wn.length; i++) {
    let gw = 0;
    for (let d = 0; d < D; d++) gw += gW_dec[i * D + d] * W_dec[i * D + d];
    const f = gw / (wn[i] * wn[i]);
    for (let d = 0; d < D; d++) gW_dec[i * D + d] -= f * W_dec[i * D + d];
  }
}

export function referenceStep(p: SaeParams, x: ArrayLike<number>, c: RefConfig): RefResult {
  if (c.architecture === "gated") return referenceGatedStep(p, x, c);
  const { d_in: D, d_sae: S, batch: B } = c;
  const { xc, pre, wn, theta, z, sparse } = referenceForward(p, x, c);
  const xhat = referenceDecode(p, z, c);
  let mse = 0;
  const dvec = new Float64Array(B * D);
  for (let j = 0; j < B * D; j++) {
    const r = xhat[j] - x[j];
    mse += r * r / B;
    dvec[j] = 2 / B * r;
  }
  // Matryoshka: the inner levels' losses join the penalty; latent i's gradient rows are dvecOf(i)
  const mat = c.architecture === "matryoshka_batchtopk" ? referenceMatryoshka(p, x, z, dvec, c) : undefined;
  const dvecOf = (i: number) => mat ? mat.blockOf(i) : dvec;
  let l0 = 0;
  let penalty = mat?.inner ?? 0;
  for (let t = 0; t < B; t++) {
    for (let i = 0; i < S; i++) {
      const v = z[t * S + i];
      if (v > 0) {
        l0 += 1 / B;
        if (c.architecture === "standard") penalty += c.sparsityCoef * v * wn[i] / B;
        if (c.architecture === "jumprelu") penalty += c.sparsityCoef / B;
      }
    }
  }
  // AuxK
  const a = new Float64Array(B * S);
  const daux = new Float64Array(B * D);
  let aux = 0;
  const nDead = c.dead ? c.dead.filter(Boolean).length : 0;
  if (sparse && c.auxK > 0 && nDead > 0) {
    const ka = Math.min(c.auxK, nDead);
    const scale = Math.min(nDead / c.auxK, 1);
    for (let t = 0; t < B; t++) {
      const row = pre.subarray(t * S, (t + 1) * S).map((v, i) => (c.dead![i] ? v : -Infinity));
      for (const i of topkIndices(row, ka)) a[t * S + i] = Math.max(0, pre[t * S + i]);
      for (let d = 0; d < D; d++) {
        let e = 0;
        for (let i = 0; i < S; i++) if (a[t * S + i]) e += a[t * S + i] * p.W_dec[i * D + d];
        const diff = e - (x[t * D + d] - xhat[t * D + d]);
        aux += c.auxCoef * scale * diff * diff / B;
        daux[t * D + d] = 2 / B * c.auxCoef * scale * diff;
      }
    }
  }
  // Backward
  const dz = new Float64Array(B * S);
  const gW_dec = new Float64Array(S * D);
  const dpre = new Float64Array(B * S);
  const glog = new Float64Array(S);
  for (let t = 0; t < B; t++) {
    for (let i = 0; i < S; i++) {
      const dv = dvecOf(i);
      let g = 0;
      for (let d = 0; d < D; d++) g += dv[t * D + d] * p.W_dec[i * D + d];
      dz[t * S + i] = g;
      const v = z[t * S + i];
      const pr = pre[t * S + i];
      if (sparse) {
        if (v > 0) dpre[t * S + i] = g;
        if (a[t * S + i] > 0) {
          let ga = 0;
          for (let d = 0; d < D; d++) ga += daux[t * D + d] * p.W_dec[i * D + d];
          dpre[t * S + i] += ga;
        }
      } else if (c.architecture === "standard") {
        if (pr > 0) dpre[t * S + i] = g + c.sparsityCoef / B * wn[i];
      } else {
        if (pr > theta[i] && pr > 0) dpre[t * S + i] = g;
        const u = (pr - theta[i]) / c.bandwidth;
        if (Math.abs(u) < 0.5) {
          glog[i] += theta[i] * (-(theta[i] / c.bandwidth) * g - c.sparsityCoef / B / c.bandwidth);
        }
      }
      for (let d = 0; d < D; d++) {
        gW_dec[i * D + d] += v * dv[t * D + d] + a[t * S + i] * daux[t * D + d];
      }
    }
  }
  if (c.architecture === "standard") {
    for (let i = 0; i < S; i++) {
      let zs = 0;
      for (let t = 0; t < B; t++) zs += z[t * S + i];
      for (let d = 0; d < D; d++) gW_dec[i * D + d] += c.sparsityCoef / B * zs * p.W_dec[i * D + d] / wn[i];
    }
  }
  const gW_enc = new Float64Array(D * S);
  const gb_enc = new Float64Array(S);
  for (let t = 0; t < B; t++) {
    for (let i = 0; i < S; i++) {
      const g = dpre[t * S + i];
      if (g === 0) continue;
      gb_enc[i] += g;
      for (let d = 0; d < D; d++) gW_enc[d * S + i] += xc[t * D + d] * g;
    }
  }
  const gb_dec = new Float64Array(D);
  const dAll = mat?.first ?? dvec; // b_dec is in every level's reconstruction
  for (let d = 0; d < D; d++) {
    let s = 0;
    for (let t = 0; t < B; t++) s += dAll[t * D + d];
    for (let i = 0; i < S; i++) s -= p.W_enc[d * S + i] * gb_enc[i];
    gb_dec[d] = s;
  }
  if (c.tiedWeights) {
    for (let i = 0; i < S; i++) for (let d = 0; d < D; d++) gW_dec[i * D + d] += gW_enc[d * S + i];
  }
  if (c.normalizeDecoder) projectDecoderGrad(gW_dec, p.W_dec, wn, D);
  return {
    loss: mse + penalty + aux,
    mse,
    l0,
    grads: { W_enc: gW_enc, W_dec: gW_dec, b_enc: gb_enc, b_dec: gb_dec, log_threshold: glog },
  };
}
