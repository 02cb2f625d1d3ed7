/**
 * Initial SAE parameters (seeded): decoder rows Gaussian, normalised to `decoderNorm`; W_enc = W_decᵀ;
 * b_enc = 0; b_dec = data mean, geometric median (Weiszfeld iterations, float64) or zeros;
 * log_threshold = log(init_threshold) (JumpReLU); gated: r_mag = b_mag = 0 (b_enc is b_gate), as SAELens.
 */
import { Rng } from "./rng.ts";
import type { SaeParams } from "./trainer.ts";

export type BDecInit = "mean" | "geometric_median" | "zeros";

export function initParams(
  d: { d_in: number; d_sae: number; seed: number; decoderNorm: number; initThreshold: number },
  bDec: Float32Array,
): SaeParams {
  const { d_in: D, d_sae: S } = d;
  const rng = new Rng(d.seed, 2);
  const W_dec = new Float32Array(S * D);
  for (let i = 0; i < S; i++) {
    let n = 0;
    for (let j = 0; j < D; j++) {
      const v = rng.normal();
      W_dec[i * D + j] = v;
      n += v * v;
    }
    const f = d.decoderNorm / Math.sqrt(n);
    for (let j = 0; j < D; j++) W_dec[i * D + j] *= f;
  }
  const W_enc = new Float32Array(D * S);
  for (let i = 0; i < S; i++) for (let j = 0; j < D; j++) W_enc[j * S + i] = W_dec[i * D + j];
  return { W_enc, W_dec, b_dec: bDec, ...latentVectors(S, d.initThreshold) };
}

/** The per-latent parameters' initial values: b_enc = r_mag = b_mag = 0, log_threshold = log(initThreshold). */
export function latentVectors(S: number, initThreshold: number) {
  return {
    b_enc: new Float32Array(S),
    log_threshold: new Float32Array(S).fill(Math.log(initThreshold)),
    r_mag: new Float32Array(S),
    b_mag: new Float32Array(S),
  };
}

/** b_dec init from sample rows x [n, D]. mean = Σx/n; geometric median = argmin_c Σ‖x − c‖. */
export function initBDec(x: Float32Array, D: number, how: BDecInit, iters = 50): Float32Array {
  const n = x.length / D;
  if (how === "zeros" || n === 0) return new Float32Array(D);
  const c = new Float64Array(D);
  for (let t = 0; t < n; t++) for (let j = 0; j < D; j++) c[j] += x[t * D + j] / n;
  if (how === "geometric_median") {
    for (let it = 0; it < iters; it++) {
      const num = new Float64Array(D);
      let den = 0;
      for (let t = 0; t < n; t++) {
        let dist = 0;
        for (let j = 0; j < D; j++) dist += (x[t * D + j] - c[j]) ** 2;
        const w = 1 / Math.max(Math.sqrt(dist), 1e-8);
        den += w;
        for (let j = 0; j < D; j++) num[j] += w * x[t * D + j];
      }
      for (let j = 0; j < D; j++) c[j] = num[j] / den;
    }
  }
  return Float32Array.from(c);
}
