/**
 * Initial SAE parameters (seeded): decoder rows Gaussian, normalised to `decoderNorm`; W_enc = W_decᵀ;
 * b_enc = 0; b_dec = data mean, geometric median (Weiszfeld iterations, float64) or zeros;
 * log_threshold = log(init_threshold) (JumpReLU); gated: r_mag = b_mag = 0 (b_enc is b_gate), as SAELens.
 * `SlabInit` draws the same values slab by slab (what the trainer uploads for wide SAEs).
 */
import { Rng } from "./rng.ts";
import type { SaeParams } from "./trainer.ts";
import type { Range } from "./slab_plan.ts";

export type BDecInit = "mean" | "geometric_median" | "zeros";

export interface InitSpec {
  d_in: number;
  d_sae: number;
  seed: number;
  decoderNorm: number;
  initThreshold: number;
}

/**
 * The same initial parameters as `initParams`, drawn slab by slab as the trainer uploads them, so a
 * wide SAE never holds whole W_enc / W_dec host copies: `slab` gives W_dec rows [start, start + size)
 * and their W_enc columns ([d_in, size]); call it for consecutive slabs from latent 0 (one RNG stream,
 * row after row, as `initParams` draws it).
 */
export class SlabInit {
  readonly vectors: Omit<SaeParams, "W_enc" | "W_dec">;
  #rng: Rng;
  #next = 0;

  constructor(readonly spec: InitSpec, bDec: Float32Array) {
    this.#rng = new Rng(spec.seed, 2);
    this.vectors = { b_dec: bDec, ...latentVectors(spec.d_sae, spec.initThreshold) };
  }

  /** `into` (optional, ≥ size · d_in floats each): fill these instead of new arrays (one pair reused by every slab). */
  slab(r: Range, into?: { W_enc: Float32Array; W_dec: Float32Array }): { W_enc: Float32Array; W_dec: Float32Array } {
    if (r.start !== this.#next) throw new Error(`init: slab at latent ${r.start}, expected ${this.#next} (in order)`);
    this.#next = r.start + r.size;
    const { d_in: D, decoderNorm } = this.spec;
    const W_dec = into ? into.W_dec.subarray(0, r.size * D) : new Float32Array(r.size * D);
    for (let i = 0; i < r.size; i++) {
      let n = 0;
      for (let j = 0; j < D; j++) {
        const v = this.#rng.normal();
        W_dec[i * D + j] = v;
        n += v * v;
      }
      const f = decoderNorm / Math.sqrt(n);
      for (let j = 0; j < D; j++) W_dec[i * D + j] *= f;
    }
    const W_enc = into ? into.W_enc.subarray(0, D * r.size) : new Float32Array(D * r.size);
    for (let i = 0; i < r.size; i++) for (let j = 0; j < D; j++) W_enc[j * r.size + i] = W_dec[i * D + j];
    return { W_enc, W_dec };
  }
}

export function initParams(d: InitSpec, bDec: Float32Array): SaeParams {
  const init = new SlabInit(d, bDec);
  const { W_enc, W_dec } = init.slab({ start: 0, size: d.d_sae });
  return { W_enc, W_dec, ...init.vectors };
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
